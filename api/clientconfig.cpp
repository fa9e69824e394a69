#include "clientconfig.h"

#include "terminalsafe.h"

#include <QSslCertificate>
#include <QSslConfiguration>

#include <QSslConfiguration>
#include <algorithm>

namespace fleet {

QNetworkRequest networkRequest(const ClientConfig &config, const QString &pathAndQuery)
{
    QUrl url = config.baseUrl;
    const qsizetype q = pathAndQuery.indexOf(u'?');
    // The path's segments arrive percent-encoded (pathPart, toPercentEncoding): taken as they are, not encoded again.
    url.setPath(url.path(QUrl::FullyEncoded).chopped(url.path().endsWith(u'/') ? 1 : 0) + pathAndQuery.left(q),
        QUrl::TolerantMode);
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

ClientConfig serviceClientConfig(const QUrl &url, const QString &bearerToken, const QString &basicAuth,
    const QString &caFile, bool insecure, int requestTimeoutMs, qint64 maxResponseBytes, int maxAttempts)
{
    ClientConfig c;
    c.baseUrl = url;
    if (!bearerToken.isEmpty()) {
        c.token = bearerToken;
        c.authScheme = "Bearer";
    } else if (!basicAuth.isEmpty()) {
        c.token = QString::fromLatin1(basicAuth.toUtf8().toBase64());
        c.authScheme = "Basic";
    }
    c.caFile = caFile;
    c.insecure = insecure;
    c.requestTimeoutMs = requestTimeoutMs;
    c.maxResponseBytes = maxResponseBytes;
    c.maxAttempts = std::max(maxAttempts, 1);
    c.backoffBaseMs = 500;
    c.backoffCapMs = 4000;
    c.maxRetryAfterSeconds = 30;
    return c;
}

QString serviceUrlProblem(const QUrl &url, const QString &service)
{
    if (!url.isValid() || url.host().isEmpty()
        || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
        return QStringLiteral("\"%1\" is not an http:// or https:// URL with a host").arg(url.toString().left(200));
    if (!url.userInfo().isEmpty())
        return QStringLiteral("put the %1 credentials in the environment or the keychain, not in the URL").arg(service);
    return {};
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
