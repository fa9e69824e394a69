#pragma once

#include "clientconfig.h"
#include "result.h"

#include <QList>
#include <QString>
#include <QUrl>

#include <optional>

class QSettings;

namespace fleet {

// A named way to reach a fleet: prod, staging, a local simulator. The token itself is never stored here: it comes
// from a token file, the desktop keychain, or FLEET_TOKEN.
struct ConnectionProfile
{
    enum class TokenFrom { File, Keychain, Environment };

    QString name;
    QUrl url;
    TokenFrom tokenFrom = TokenFrom::File;
    QString tokenFile;
    QString caFile;
    bool insecure = false;
    bool production = false; // the UI marks a production connection unmistakably

    ClientConfig clientConfig(const QString &token) const;
};

// Connection profiles remembered with QSettings (group "profiles"), and which one was used last.
class ProfileStore
{
public:
    explicit ProfileStore(QSettings *settings); // not owned; must outlive the store

    QList<ConnectionProfile> profiles() const;
    std::optional<ConnectionProfile> profile(const QString &name) const;
    void save(const ConnectionProfile &profile);
    void remove(const QString &name);
    QString lastUsed() const;
    void setLastUsed(const QString &name);

    // Checks a URL typed by a person: the cleaned URL when it is usable, or what is wrong ("the URL needs http://
    // or https://", ...).
    static Result<QUrl> validateUrl(const QString &text);
    // The settings group of profile `name` ("profiles/<name>", '/' and '\\' replaced): its own settings live under it
    // and go with it when it is removed.
    static QString group(const QString &name);

private:
    QSettings *m_settings;
};

} // namespace fleet
