#include "prometheus.h"

#include "httptransport.h"
#include "terminalsafe.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <limits>

namespace fleet {

ClientConfig PrometheusConfig::clientConfig() const
{
    return serviceClientConfig(url, bearerToken, basicAuth, caFile, insecure, requestTimeoutMs, 32LL * 1024 * 1024, 3);
}

QString PrometheusConfig::problem() const
{
    return serviceUrlProblem(url, QStringLiteral("Prometheus"));
}

PrometheusClient::PrometheusClient(PrometheusConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_http(new HttpTransport(
          m_config.clientConfig(),
          [](ApiError &error, const QByteArray &body, const QString &reasonPhrase) {
              error.message = describeError(error.httpStatus, body, reasonPhrase);
          },
          this))
{
}

PrometheusClient::~PrometheusClient() = default;

QString PrometheusClient::describeError(int httpStatus, const QByteArray &body, const QString &reasonPhrase)
{
    // {"status":"error","errorType":"bad_data","error":"1:5: parse error: ..."}
    const QJsonObject doc = body.size() <= 64 * 1024 ? QJsonDocument::fromJson(body).object() : QJsonObject();
    const QString type = boundedText(doc.value(QLatin1String("errorType")).toString(), 64);
    QString said = boundedText(doc.value(QLatin1String("error")).toString(), 500);
    if (said.isEmpty())
        said = boundedText(reasonPhrase, 200);
    const QString tail = said.isEmpty() ? QString() : QStringLiteral(": ") + said;
    const QString code
        = type.isEmpty() ? QString::number(httpStatus) : QStringLiteral("%1 %2").arg(httpStatus).arg(type);
    switch (httpStatus) {
    case 400:
        return QStringLiteral("Prometheus refused the query as malformed (%1)%2; check the queries file")
            .arg(code, tail);
    case 401:
        return QStringLiteral("Prometheus did not accept the credentials (%1)%2").arg(code, tail);
    case 403:
        return QStringLiteral("Prometheus does not allow these credentials to query (%1)%2").arg(code, tail);
    case 422:
        return QStringLiteral("Prometheus could not evaluate the query (%1)%2").arg(code, tail);
    case 503:
        return QStringLiteral("Prometheus is overloaded, timed out or shutting down (%1)%2; asked again later")
            .arg(code, tail);
    default:
        return QStringLiteral("Prometheus answered HTTP %1%2").arg(code, tail);
    }
}

int PrometheusClient::stepFor(qint64 rangeSeconds, int columns, int scrapeSeconds)
{
    rangeSeconds = std::max<qint64>(rangeSeconds, 1);
    const qint64 perColumn = (rangeSeconds + std::max(columns, 1) - 1) / std::max(columns, 1);
    const qint64 perPoint = (rangeSeconds + 9999) / 10000;
    return int(
        std::clamp<qint64>(std::max({ qint64(std::max(scrapeSeconds, 1)), perColumn, perPoint }), 1, 86400 * 30));
}

void PrometheusClient::queryRange(const QString &promql, qint64 fromSecond, qint64 toSecond, int stepSeconds,
    QObject *context, std::function<void(ApiResult<PromMatrix>)> done)
{
    // The form the API takes in the URL or a POST body alike, every reserved character of the query encoded.
    // (One pass: an encoded query is full of "%3D" and the like, which a chained arg() would take for placeholders.)
    const QString encoded = QStringLiteral("query=%1&start=%2&end=%3&step=%4")
                                .arg(QString::fromLatin1(QUrl::toPercentEncoding(promql)), QString::number(fromSecond),
                                    QString::number(toSecond), QString::number(stepSeconds));
    HttpTransport::Request r;
    r.timeoutMs = m_config.requestTimeoutMs;
    r.maxBytes = 32LL * 1024 * 1024;
    if (encoded.size() > kPostAbove) {
        // A long query would pass a proxy's URL limit: the API takes the same form in a POST body. It changes
        // nothing, so it may be repeated like a read.
        r.verb = "POST";
        r.path = QStringLiteral("/api/v1/query_range");
        r.body = encoded.toLatin1();
        r.contentType = "application/x-www-form-urlencoded";
    } else {
        r.path = QStringLiteral("/api/v1/query_range?") + encoded;
    }
    r.retryTransient = true;
    m_http->send(r, context,
        decodedAnswer<PromMatrix>(
            std::move(done),
            [fromSecond, toSecond, stepSeconds](
                const QByteArray &body) { return decodeMatrix(body, fromSecond, toSecond, stepSeconds); },
            QStringLiteral("Prometheus's answer is not a range query's: ")));
}

} // namespace fleet
