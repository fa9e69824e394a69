#include "healthmonitor.h"

#include "fleetstore.h"

#include <QDateTime>
#include <QTimeZone>

namespace fleet {

QString VerdictChange::text() const
{
    const QString when = QDateTime::fromSecsSinceEpoch(atSecond, QTimeZone::utc()).toString(QStringLiteral("HH:mm:ss"));
    const QString who = regionName.isEmpty() || regionName == region ? region : regionName;
    return reason.isEmpty() ? QStringLiteral("%1 became %2 at %3 UTC").arg(who, wireName(to), when)
                            : QStringLiteral("%1 became %2 at %3 UTC: %4").arg(who, wireName(to), when, reason);
}

HealthMonitor::HealthMonitor(FleetStore *store, QObject *parent)
    : QObject(parent)
    , m_store(store)
{
    qRegisterMetaType<VerdictChange>();
    connect(store->regionTable(), &EntityTable::reset, this, &HealthMonitor::syncRegions);
    connect(store, &FleetStore::healthChanged, this, &HealthMonitor::evaluate);
    syncRegions();
}

void HealthMonitor::setThresholds(const VerdictThresholds &thresholds)
{
    m_thresholds = thresholds;
    for (Entry &e : m_regions)
        e.tracker.setThresholds(thresholds);
    Q_EMIT thresholdsChanged(m_thresholds);
    evaluate();
}

Verdict HealthMonitor::verdict(const QString &region) const
{
    const auto it = m_regions.constFind(region);
    return it == m_regions.cend() ? Verdict::NoData : it->tracker.verdict();
}

QString HealthMonitor::reason(const QString &region) const
{
    const auto it = m_regions.constFind(region);
    return it == m_regions.cend() ? QString() : it->tracker.reason();
}

RegionStats HealthMonitor::stats(const QString &region) const
{
    return m_regions.value(region).stats;
}

void HealthMonitor::syncRegions()
{
    if (!m_store)
        return;
    // Regions that left the fleet (or a whole other fleet) are forgotten; new ones start unjudged.
    QHash<QString, Entry> kept;
    for (const Region &r : m_store->regions()) {
        const auto it = m_regions.constFind(r.id);
        kept.insert(r.id, it != m_regions.cend() ? *it : Entry { {}, VerdictTracker(m_thresholds), false, false });
    }
    m_regions = std::move(kept);
    evaluate();
}

void HealthMonitor::evaluate()
{
    if (!m_store)
        return;
    const HealthTimeline &history = m_store->history();
    const qint64 now = history.latestSecond();
    if (now <= 0) {
        // Nothing to judge (a cleared store): every region is unjudged again.
        for (Entry &e : m_regions) {
            e = Entry { {}, VerdictTracker(m_thresholds), false, false };
        }
        m_judgedAt = 0;
        Q_EMIT evaluated();
        return;
    }
    m_judgedAt = now;
    for (const Region &r : m_store->regions()) {
        auto it = m_regions.find(r.id);
        if (it == m_regions.end())
            it = m_regions.insert(r.id, Entry { {}, VerdictTracker(m_thresholds), false, false });
        Entry &e = *it;
        e.stats = RegionStats::fromHistory(history, history.regionIndex(r.id), now, m_thresholds.windowSeconds);
        const Verdict before = e.tracker.verdict();
        e.tracker.update(e.stats, now);
        const bool wasJudged = e.judged;
        e.judged = true;
        // A region's first verdict with data (after "no data" while its history loads) is its starting state too,
        // not a change: "became healthy at 08:31" for every region is noise on the incident's timeline.
        const bool starting = before == Verdict::NoData && !e.hadVerdict;
        if (e.tracker.verdict() != Verdict::NoData)
            e.hadVerdict = true;
        if (wasJudged && !starting && e.tracker.verdict() != before)
            Q_EMIT verdictChanged(VerdictChange { r.id, r.name, before, e.tracker.verdict(), e.tracker.reason(), now });
    }
    Q_EMIT evaluated();
}

} // namespace fleet
