#include "prometheus.h"

#include "httptransport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <limits>

namespace fleet {

namespace {

QString bounded(const QString &text, int limit)
{
    return text.size() <= limit ? text : text.left(limit) + QStringLiteral("...");
}

} // namespace

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
    const QString type = bounded(doc.value(QLatin1String("errorType")).toString(), 64);
    QString said = bounded(doc.value(QLatin1String("error")).toString(), 500);
    if (said.isEmpty())
        said = bounded(reasonPhrase, 200);
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

Result<PromMatrix> PrometheusClient::decodeMatrix(
    const QByteArray &body, qint64 fromSecond, qint64 toSecond, int stepSeconds)
{
    using R = Result<PromMatrix>;
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return R::failure(QStringLiteral("not a JSON object (%1)").arg(error.errorString()));
    const QJsonObject top = doc.object();
    const QString status = top.value(QLatin1String("status")).toString();
    if (status != QLatin1String("success"))
        return R::failure(QStringLiteral("status is \"%1\", not \"success\"").arg(bounded(status, 40)));
    PromMatrix m;
    const QJsonArray warnings = top.value(QLatin1String("warnings")).toArray();
    for (const QJsonValue &w : warnings) {
        if (m.warnings.size() >= kMaxWarnings)
            break;
        if (w.isString())
            m.warnings << bounded(w.toString(), 500);
    }
    const QJsonObject data = top.value(QLatin1String("data")).toObject();
    const QString type = data.value(QLatin1String("resultType")).toString();
    if (type != QLatin1String("matrix"))
        return R::failure(QStringLiteral("resultType is \"%1\", not \"matrix\"").arg(bounded(type, 40)));
    const QJsonValue result = data.value(QLatin1String("result"));
    if (!result.isArray())
        return R::failure(QStringLiteral("data.result is not a list"));
    const QJsonArray series = result.toArray();
    if (series.size() > kMaxSeries)
        return R::failure(QStringLiteral("%1 series; at most %2 are read (make the query more specific)")
                              .arg(series.size())
                              .arg(kMaxSeries));
    const qint64 slack = std::max(stepSeconds, 1);
    for (qsizetype i = 0; i < series.size(); ++i) {
        const QJsonObject s = series.at(i).toObject();
        PromSeries out;
        const QJsonObject metric = s.value(QLatin1String("metric")).toObject();
        if (metric.size() > 64)
            return R::failure(QStringLiteral("series %1 has %2 labels (at most 64)").arg(i).arg(metric.size()));
        for (auto it = metric.begin(); it != metric.end(); ++it) {
            if (it.key().size() > 200 || !it.value().isString() || it.value().toString().size() > kMaxLabelText)
                return R::failure(QStringLiteral("series %1 has a label that is not short text").arg(i));
            out.labels.insert(it.key(), it.value().toString());
        }
        const QJsonValue values = s.value(QLatin1String("values"));
        if (!values.isArray())
            return R::failure(QStringLiteral("series %1 has no list of values").arg(i));
        const QJsonArray points = values.toArray();
        if (points.size() > kMaxPointsPerSeries)
            return R::failure(QStringLiteral("series %1 has %2 points; Prometheus sends at most %3")
                                  .arg(i)
                                  .arg(points.size())
                                  .arg(kMaxPointsPerSeries));
        out.points.reserve(std::size_t(points.size()));
        for (const QJsonValue &p : points) {
            const QJsonArray pair = p.toArray();
            if (pair.size() != 2 || !pair.at(0).isDouble() || !pair.at(1).isString())
                return R::failure(QStringLiteral("series %1 has a point that is not [time, \"value\"]").arg(i));
            const double t = pair.at(0).toDouble();
            if (!std::isfinite(t) || t < double(fromSecond - slack) || t > double(toSecond + slack))
                return R::failure(QStringLiteral("series %1 has a point at %2, outside the range asked (%3 to %4)")
                                      .arg(i)
                                      .arg(t, 0, 'f', 3)
                                      .arg(fromSecond)
                                      .arg(toSecond));
            const QString text = pair.at(1).toString();
            bool ok = false;
            double v = text.size() <= 64 ? text.toDouble(&ok) : 0.0;
            if (!ok) {
                if (text == QLatin1String("NaN") || text == QLatin1String("+Inf") || text == QLatin1String("-Inf")
                    || text == QLatin1String("Inf"))
                    v = std::numeric_limits<double>::quiet_NaN();
                else
                    return R::failure(QStringLiteral("series %1 has a value that is not a number: \"%2\"")
                                          .arg(i)
                                          .arg(bounded(text, 40)));
            }
            if (!std::isfinite(v))
                v = std::numeric_limits<double>::quiet_NaN(); // drawn as a gap
            out.points.emplace_back(qint64(std::llround(t)), v);
        }
        m.series.push_back(std::move(out));
    }
    return R::success(std::move(m));
}

} // namespace fleet
