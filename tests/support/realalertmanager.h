#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QProcess>
#include <QTemporaryDir>
#include <QUrl>

// Test fixture: a real Alertmanager (Debian's prometheus-alertmanager) on a free loopback port with a temporary
// folder and no cluster, stopped with the fixture. installed() is false where it is not installed: the test skips by
// name. Alerts are posted to it the way Prometheus does (POST /api/v2/alerts), so no Prometheus is needed.
class RealAlertmanager
{
public:
    RealAlertmanager();
    ~RealAlertmanager();

    bool installed() const { return !m_binary.isEmpty(); }
    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port)); }
    QString output() { return QString::fromUtf8(m_process.readAll()); }

    // Blocking request (10 s at most); the body, or empty on any error.
    QByteArray request(const QByteArray &verb, const QString &path, const QByteArray &body = {});
    bool ready() { return !request("GET", QStringLiteral("/api/v2/status")).isEmpty(); }
    QJsonArray silences();
    QJsonObject silence(const QString &id);
    // Fires an alert with these labels (and a summary annotation) for the next `forSeconds`.
    bool fire(const QJsonObject &labels, const QString &summary, int forSeconds = 600);

private:
    QString m_binary;
    QTemporaryDir m_dir;
    QProcess m_process;
    quint16 m_port = 0;
    QNetworkAccessManager m_nam;
};
