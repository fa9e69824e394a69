#include "connectionprofiles.h"

#include <QCoreApplication>
#include <QSettings>

namespace fleet {

namespace {

QString key(const QString &name)
{
    return ProfileStore::group(name);
}

QString tr(const char *text)
{
    return QCoreApplication::translate("fleet::ProfileStore", text);
}

} // namespace

ClientConfig ConnectionProfile::clientConfig(const QString &token) const
{
    ClientConfig c;
    c.baseUrl = url;
    c.token = token;
    c.caFile = caFile;
    c.insecure = insecure;
    return c;
}

QString ProfileStore::group(const QString &name)
{
    // Profile names are free text; QSettings keys must not contain '/' or '\\'.
    QString k = name;
    k.replace(QLatin1Char('/'), QLatin1Char('_')).replace(QLatin1Char('\\'), QLatin1Char('_'));
    return QStringLiteral("profiles/") + k;
}

ProfileStore::ProfileStore(QSettings *settings)
    : m_settings(settings)
{
}

QList<ConnectionProfile> ProfileStore::profiles() const
{
    QList<ConnectionProfile> out;
    m_settings->beginGroup(QStringLiteral("profiles"));
    const QStringList groups = m_settings->childGroups();
    m_settings->endGroup();
    for (const QString &g : groups) {
        if (auto p = profile(m_settings->value(QStringLiteral("profiles/%1/name").arg(g)).toString()))
            out.append(*p);
    }
    return out;
}

std::optional<ConnectionProfile> ProfileStore::profile(const QString &name) const
{
    if (name.isEmpty())
        return std::nullopt;
    m_settings->beginGroup(key(name));
    const bool exists = m_settings->contains(QStringLiteral("url"));
    ConnectionProfile p;
    p.name = m_settings->value(QStringLiteral("name"), name).toString();
    p.url = QUrl(m_settings->value(QStringLiteral("url")).toString());
    const QString from = m_settings->value(QStringLiteral("token_from")).toString();
    p.tokenFrom = from == QLatin1String("keychain") ? ConnectionProfile::TokenFrom::Keychain
        : from == QLatin1String("environment")      ? ConnectionProfile::TokenFrom::Environment
                                                    : ConnectionProfile::TokenFrom::File;
    p.tokenFile = m_settings->value(QStringLiteral("token_file")).toString();
    p.caFile = m_settings->value(QStringLiteral("ca_file")).toString();
    p.insecure = m_settings->value(QStringLiteral("insecure"), false).toBool();
    p.production = m_settings->value(QStringLiteral("production"), false).toBool();
    m_settings->endGroup();
    if (!exists)
        return std::nullopt;
    return p;
}

void ProfileStore::save(const ConnectionProfile &p)
{
    m_settings->beginGroup(key(p.name));
    m_settings->setValue(QStringLiteral("name"), p.name);
    m_settings->setValue(QStringLiteral("url"), p.url.toString());
    m_settings->setValue(QStringLiteral("token_from"),
        p.tokenFrom == ConnectionProfile::TokenFrom::Keychain          ? QStringLiteral("keychain")
            : p.tokenFrom == ConnectionProfile::TokenFrom::Environment ? QStringLiteral("environment")
                                                                       : QStringLiteral("file"));
    m_settings->setValue(QStringLiteral("token_file"), p.tokenFile);
    m_settings->setValue(QStringLiteral("ca_file"), p.caFile);
    m_settings->setValue(QStringLiteral("insecure"), p.insecure);
    m_settings->setValue(QStringLiteral("production"), p.production);
    m_settings->endGroup();
    m_settings->sync();
}

void ProfileStore::remove(const QString &name)
{
    m_settings->remove(key(name));
    m_settings->sync();
}

QString ProfileStore::lastUsed() const
{
    return m_settings->value(QStringLiteral("last_profile")).toString();
}

void ProfileStore::setLastUsed(const QString &name)
{
    m_settings->setValue(QStringLiteral("last_profile"), name);
    m_settings->sync();
}

Result<QUrl> ProfileStore::validateUrl(const QString &text)
{
    using R = Result<QUrl>;
    const QString t = text.trimmed();
    if (t.isEmpty())
        return R::failure(tr("Enter the address of the fleet API, for example https://fleet.example.com or "
                             "http://127.0.0.1:8080."));
    const QUrl u = QUrl(t, QUrl::StrictMode);
    if (!u.isValid())
        return R::failure(tr("\"%1\" is not a valid URL: %2.").arg(t, u.errorString()));
    if (u.scheme() != QLatin1String("http") && u.scheme() != QLatin1String("https"))
        return R::failure(tr("The URL needs to start with http:// or https:// (got \"%1\").").arg(t));
    if (u.host().isEmpty())
        return R::failure(tr("The URL has no host name (got \"%1\").").arg(t));
    if (u.hasQuery() || u.hasFragment())
        return R::failure(tr("Give only the server's address, without ?query or #fragment."));
    QUrl clean = u;
    QString path = clean.path();
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    clean.setPath(path);
    return R::success(clean);
}

} // namespace fleet
