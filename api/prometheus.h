#pragma once

#include "apierror.h"
#include "clientconfig.h"
#include "result.h"

#include <QMap>
#include <QObject>
#include <QStringList>
#include <QUrl>

#include <functional>
#include <utility>
#include <vector>

namespace fleet {

class HttpTransport;

// One series of a range query's answer: its labels (as text, bounded) and its points, x in Unix seconds. A value
// Prometheus wrote as NaN, +Inf or -Inf is NaN here: a gap, never a number.
struct PromSeries
{
    QMap<QString, QString> labels;
    std::vector<std::pair<qint64, double>> points;
};

// A range query's answer: the series and the warnings Prometheus attached (shown under the chart).
struct PromMatrix
{
    std::vector<PromSeries> series;
    QStringList warnings;
};

// Where a Prometheus is and how to sign in: a bearer token ("Bearer") or "user:password" sent as Basic. The
// credentials go to this origin only (no redirect is followed) and are never logged.
struct PrometheusConfig
{
    QUrl url; // e.g. http://127.0.0.1:9090 (a path prefix is kept: http://host/prometheus)
    QString bearerToken;
    QString basicAuth; // "user:password"
    QString caFile;
    bool insecure = false;
    int requestTimeoutMs = 15000;

    ClientConfig clientConfig() const;
    // Why this URL cannot be used ("not an http:// or https:// URL with a host"); empty when it can.
    QString problem() const;
};

// The fleet's own Prometheus (HTTP API v1, Prometheus 2.42): range queries, over the same HttpTransport as every
// other client (deadlines, size cap, no redirects, Retry-After). Every answer is checked before it is used: the
// shape the API documents, at most kMaxSeries series of at most kMaxPointsPerSeries points, labels bounded, every
// point's time inside the range asked (plus a step), values parsed as numbers or gaps. Errors are said in words:
// 400 (the query is malformed), 422 (it cannot be evaluated), 503 (Prometheus is overloaded, timed out or shutting
// down), with Prometheus's own error text. Callbacks run on `context`'s thread, not at all if it is destroyed.
class PrometheusClient : public QObject
{
    Q_OBJECT

public:
    static constexpr int kMaxPointsPerSeries = 11000; // Prometheus refuses a range query past this resolution
    static constexpr int kMaxSeries = 200;
    static constexpr int kMaxLabelText = 1024;
    static constexpr int kMaxWarnings = 20;
    static constexpr int kPostAbove = 1500; // a longer encoded query goes in a POST body, not the URL

    explicit PrometheusClient(PrometheusConfig config, QObject *parent = nullptr);
    ~PrometheusClient() override;

    const PrometheusConfig &config() const { return m_config; }

    // /api/v1/query_range over [fromSecond, toSecond] at `stepSeconds`.
    void queryRange(const QString &promql, qint64 fromSecond, qint64 toSecond, int stepSeconds, QObject *context,
        std::function<void(ApiResult<PromMatrix>)> done);

    // The step for a range drawn `columns` pixels wide: no column finer than a pixel, no finer than the scrape
    // interval, and never more than 10,000 points (under Prometheus's 11,000).
    static int stepFor(qint64 rangeSeconds, int columns, int scrapeSeconds);
    // A query_range answer, checked; `fromSecond`, `toSecond` and `stepSeconds` are what was asked.
    static Result<PromMatrix> decodeMatrix(const QByteArray &body, qint64 fromSecond, qint64 toSecond, int stepSeconds);
    // Prometheus's error document in words, for an error status (400, 422, 503, ...).
    static QString describeError(int httpStatus, const QByteArray &body, const QString &reasonPhrase);

private:
    PrometheusConfig m_config;
    HttpTransport *m_http;
};

} // namespace fleet
