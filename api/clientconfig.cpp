#include "clientconfig.h"

#include <QSslCertificate>
#include <QSslConfiguration>

#include <QSslConfiguration>
#include <algorithm>

namespace fleet {

QNetworkRequest networkRequest(const ClientConfig &config, const QString &pathAndQuery)
{
    QUrl url = config.baseUrl;
    const qsizetype q = pathAndQuery.indexOf(u'?');
    url.setPath(url.path().chopped(url.path().endsWith(u'/') ? 1 : 0) + pathAndQuery.left(q));
    if (q >= 0)
        url.setQuery(pathAndQuery.mid(q + 1));
    QNetworkRequest request(url);
    request.setRawHeader("Authorization", config.authScheme + ' ' + config.token.toLatin1());
    request.setRawHeader("User-Agent", "fleet-console/" FLEET_VERSION);
    // Redirects are never followed: the token would go wherever the server points. A 3xx is reported as it is.
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    if (url.scheme() == QLatin1String("https")) {
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        if (!config.caFile.isEmpty())
            ssl.addCaCertificates(QSslCertificate::fromPath(config.caFile));
        if (config.insecure)
            ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
        request.setSslConfiguration(ssl);
    }
    return request;
}

QString describeRedirect(const ClientConfig &config, const QUrl &location)
{
    const QUrl target = config.baseUrl.resolved(location);
    return QStringLiteral("the server redirected to %1; not followed: the token is only ever sent to %2, the "
                          "configured server. Check the URL (http or https, host, port) or the proxy in between")
        .arg(target.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery), config.baseUrl.toDisplayString());
}

qint64 clampRetryAfterMs(qint64 seconds)
{
    return std::clamp<qint64>(seconds, 0, 3600) * 1000;
}

int clampHeartbeatMs(qint64 ms)
{
    return int(std::clamp<qint64>(ms, 1000, 300'000));
}

} // namespace fleet
