#pragma once

#include "apierror.h"
#include "fleettypes.h"

#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>
#include <memory>

namespace fleet {

class FleetClient;

// Where a region's past health comes from: the Fleet API's history (FleetApiHistory) today; the fleet's own
// Prometheus next (issue #23). HistoryLoader asks one for the chunks the timeline lacks; the session builds it from
// the profile. Model: qBittorrent's ResumeDataStorage and its two backends.
class HistorySource
{
public:
    virtual ~HistorySource() = default;

    virtual QString name() const = 0; // for messages: "Fleet API", "Prometheus"
    // The longest range, in seconds at one-second steps, one request may cover: the Fleet API answers at most
    // 10,000 buckets; Prometheus 10,000 points a series at its scrape step (a day in one request at 15 s).
    virtual int maxPointsPerRequest() const = 0;
    // `region`'s samples in [fromSecond, toSecond) at `stepSeconds`. `done` runs on `context`'s thread, not at all if
    // `context` is destroyed or the source is gone.
    virtual void fetch(const QString &region, qint64 fromSecond, qint64 toSecond, int stepSeconds, QObject *context,
        std::function<void(ApiResult<HealthHistory>)> done)
        = 0;
    // Where the history comes from right now, in words for the charts ("History from Prometheus", or why not);
    // empty when there is nothing to say (the one source there is).
    virtual QString note() const { return {}; }
};

// Prometheus first, the Fleet API when it cannot answer (issue #23): a chunk the primary fails is fetched from the
// fallback, and the note says why ("Prometheus cannot be used: ... History from the Fleet API."). After a failure
// the primary is left alone for a minute (a Prometheus that times out would otherwise cost every chunk its
// deadline), then asked again. Prometheus's warnings are in the note too.
class FallbackHistory : public HistorySource
{
public:
    FallbackHistory(std::unique_ptr<HistorySource> primary, std::unique_ptr<HistorySource> fallback);

    QString name() const override;
    int maxPointsPerRequest() const override;
    void fetch(const QString &region, qint64 fromSecond, qint64 toSecond, int stepSeconds, QObject *context,
        std::function<void(ApiResult<HealthHistory>)> done) override;
    QString note() const override { return m_note; }

    static constexpr qint64 kRetryPrimaryMs = 60000;

private:
    // The fallback in pieces it accepts (the primary's chunk is longer), merged in time order.
    void fetchFallback(const QString &region, qint64 fromSecond, qint64 toSecond, int stepSeconds, QObject *context,
        std::function<void(ApiResult<HealthHistory>)> done);

    std::unique_ptr<HistorySource> m_primary;
    std::unique_ptr<HistorySource> m_fallback;
    QString m_note;
    qint64 m_primaryFailedAtMs = 0; // 0: not failed (or long enough ago)
};

// GET /v1/regions/{id}/health through a connection's FleetClient (not owned; a source of a dropped connection
// answers nothing).
class FleetApiHistory : public HistorySource
{
public:
    explicit FleetApiHistory(FleetClient *client);

    QString name() const override;
    int maxPointsPerRequest() const override { return 10000; }
    void fetch(const QString &region, qint64 fromSecond, qint64 toSecond, int stepSeconds, QObject *context,
        std::function<void(ApiResult<HealthHistory>)> done) override;

private:
    QPointer<FleetClient> m_client;
};

} // namespace fleet
