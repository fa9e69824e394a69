#pragma once

#include "apierror.h"
#include "connectionprofiles.h"

#include <QDialog>
#include <QPointer>

#include <functional>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace fleet {

class FleetClient;

// Chooses or edits a connection profile and proves it works before the console uses it: the URL is checked as it is
// typed, and "Test" / "Connect" ask the server who the token belongs to (/v1/me). Any failure is explained in words
// with what to do: DNS, refused, timeout, TLS, 401, 403, not a Fleet API.
class ConnectDialog : public QDialog
{
    Q_OBJECT

public:
    ConnectDialog(ProfileStore *profiles, QWidget *parent = nullptr);

    void setProfile(const ConnectionProfile &profile);
    ConnectionProfile profile() const;
    void setToken(const QString &token); // pasted token, kept for this session only
    QString token() const { return m_resolvedToken; } // after a successful connect
    QString resultText() const;
    bool isBusy() const { return !m_pending.isNull(); }

    void testConnection(); // asynchronous; emits tested()
    static QString explain(const ApiError &error, const QUrl &url);

Q_SIGNALS:
    void tested(bool ok, const QString &message);

private:
    void loadSelected();
    void validate();
    void showResult(bool ok, const QString &text);
    void resolveToken(std::function<void(bool ok, const QString &tokenOrError)> done);
    void connectAndAccept();

    ProfileStore *m_profiles;
    QComboBox *m_saved;
    QLineEdit *m_name;
    QLineEdit *m_url;
    QComboBox *m_tokenFrom;
    QLineEdit *m_tokenFile;
    QLineEdit *m_token;
    QLineEdit *m_caFile;
    QCheckBox *m_production;
    QCheckBox *m_insecure;
    QLabel *m_urlHint;
    QLabel *m_result;
    QPushButton *m_test;
    QPushButton *m_connect;
    QPointer<QObject> m_pending; // the test request in flight (FleetSession::probe)
    QString m_resolvedToken;
    bool m_acceptWhenOk = false;
};

} // namespace fleet
