#pragma once

#include "apierror.h"
#include "fleettypes.h"

#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>

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
    // The most samples one request may ask for (the Fleet API: 10,000 buckets; Prometheus: 11,000 points).
    virtual int maxPointsPerRequest() const = 0;
    // `region`'s samples in [fromSecond, toSecond) at `stepSeconds`. `done` runs on `context`'s thread, not at all if
    // `context` is destroyed or the source is gone.
    virtual void fetch(const QString &region, qint64 fromSecond, qint64 toSecond, int stepSeconds, QObject *context,
        std::function<void(ApiResult<HealthHistory>)> done)
        = 0;
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
