#include "historysource.h"

#include "fleetclient.h"
#include "isotime.h"

namespace fleet {

FleetApiHistory::FleetApiHistory(FleetClient *client)
    : m_client(client)
{
}

QString FleetApiHistory::name() const
{
    return QStringLiteral("Fleet API");
}

void FleetApiHistory::fetch(const QString &region, qint64 fromSecond, qint64 toSecond, int stepSeconds,
    QObject *context, std::function<void(ApiResult<HealthHistory>)> done)
{
    if (!m_client)
        return;
    m_client->health(
        region, formatIsoUtc(fromSecond * 1000), formatIsoUtc(toSecond * 1000), stepSeconds, context, std::move(done));
}

} // namespace fleet
