#include "clientconfig.h"

#include <QSslCertificate>
#include <QSslConfiguration>

namespace fleet {

QNetworkRequest networkRequest(const ClientConfig &config, const QString &pathAndQuery)
{
    QUrl url = config.baseUrl;
    const qsizetype q = pathAndQuery.indexOf(u'?');
    url.setPath(url.path().chopped(url.path().endsWith(u'/') ? 1 : 0) + pathAndQuery.left(q));
    if (q >= 0)
        url.setQuery(pathAndQuery.mid(q + 1));
    QNetworkRequest request(url);
    request.setRawHeader("Authorization", "Bearer " + config.token.toLatin1());
    request.setRawHeader("User-Agent", "fleet-console/" FLEET_VERSION);
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

} // namespace fleet
