#pragma once

#include "historysource.h"
#include "result.h"

#include <QPointer>
#include <QString>

namespace fleet {

class PrometheusClient;

// The PromQL behind each series the charts draw, per profile. `$region` is replaced by the region's id (checked
// against the contract's id characters first, so it cannot leave its string) and `$window` by the rate window in
// seconds ("120s": four scrapes or a step, whichever is longer). The defaults read fleet-sim's /metrics.
struct PrometheusQueries
{
    QString packetLoss; // ratio 0..1
    QString rttP95; // seconds
    QString failures; // failed builds per second, one series per `reason` label (the Fleet API's reasons)
    QString workers; // workers, one series per `state` label
    QString queueDepth; // builds waiting

    bool operator==(const PrometheusQueries &) const = default;
    static PrometheusQueries defaults();
    // A JSON object with any of packet_loss, rtt_p95_seconds, failures_per_second, workers, queue_depth (the rest
    // keep their defaults); the error names the file and the key.
    static Result<PrometheusQueries> load(const QString &path);
    static QString expand(const QString &query, const QString &region, int windowSeconds);
};

// A region's history from the fleet's own Prometheus: the five queries over the range at one step (the scrape
// interval at least, and never more than 10,000 points), merged into the same buckets the Fleet API answers with.
// Counters come as per-second rates and become counts per bucket; NaN and infinities are gaps; Prometheus's
// warnings ride along in HealthHistory::warnings. A failed query fails the fetch, naming the series.
class PrometheusHistory : public HistorySource
{
public:
    PrometheusHistory(PrometheusClient *client, PrometheusQueries queries, int scrapeSeconds);

    QString name() const override;
    // 10,000 points a series at the scrape step (under Prometheus's 11,000): 24 h in one request at 15 s.
    int maxPointsPerRequest() const override { return int(std::min<qint64>(10000LL * m_scrapeSeconds, 7 * 86400)); }
    void fetch(const QString &region, qint64 fromSecond, qint64 toSecond, int stepSeconds, QObject *context,
        std::function<void(ApiResult<HealthHistory>)> done) override;

    int scrapeSeconds() const { return m_scrapeSeconds; }

private:
    QPointer<PrometheusClient> m_client;
    PrometheusQueries m_queries;
    int m_scrapeSeconds;
};

} // namespace fleet
