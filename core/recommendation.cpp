#include "recommendation.h"

#include "fleetstore.h"
#include "healthmonitor.h"

#include <QHash>

#include <algorithm>

namespace fleet {

int capacityLeft(const Region &region)
{
    int live = 0;
    for (int s = 0; s < kWorkerStateCount; ++s) {
        if (WorkerState(s) != WorkerState::Terminated)
            live += region.workersByState[s];
    }
    return std::max(0, region.capacity.maxWorkers - live);
}

WorkerCondition judgeWorker(const Worker &worker, const WorkerJudgement &judgement)
{
    switch (worker.state) {
    case WorkerState::Terminated:
    case WorkerState::Provisioning:
    case WorkerState::Draining:
    case WorkerState::Unknown:
        return WorkerCondition::NotInService;
    case WorkerState::Offline:
        // A drained or expired worker was taken out on purpose; a lost heartbeat is a failure.
        return worker.offlineReason == QLatin1String("heartbeat_lost") || worker.offlineReason.isEmpty()
            ? WorkerCondition::Failing
            : WorkerCondition::NotInService;
    case WorkerState::Idle:
    case WorkerState::Busy:
        break;
    }
    const int networkErrors = worker.recentFailures[int(FailureReason::ETimedOut)]
        + worker.recentFailures[int(FailureReason::EConnReset)]
        + worker.recentFailures[int(FailureReason::EHostUnreach)];
    if (networkErrors >= judgement.failingNetworkErrors)
        return WorkerCondition::Failing;
    if (worker.packetLoss >= judgement.degradedPacketLoss || worker.rttMs >= judgement.degradedRttMs)
        return WorkerCondition::Degraded;
    return WorkerCondition::Fine;
}

int Recommendation::failing() const
{
    int n = 0;
    for (const Need &need : needs)
        n += need.failing;
    return n;
}

int Recommendation::degraded() const
{
    int n = 0;
    for (const Need &need : needs)
        n += need.degraded;
    return n;
}

int Recommendation::provisioned() const
{
    int n = 0;
    for (const Share &s : shares)
        n += s.count;
    return n;
}

QString Recommendation::summary() const
{
    if (region.isEmpty())
        return notes.isEmpty() ? QStringLiteral("Nothing to replace.") : notes.join(u' ');
    QStringList parts;
    parts << QStringLiteral("%1: %2 failing and %3 degraded workers.")
                 .arg(regionName.isEmpty() ? region : regionName)
                 .arg(failing())
                 .arg(degraded());
    if (!shares.isEmpty()) {
        QStringList split;
        for (const Share &s : shares)
            split << QStringLiteral("%1 %2 in %3 (%4 free)")
                         .arg(s.count)
                         .arg(wireName(s.arch))
                         .arg(s.region)
                         .arg(s.capacityLeft);
        parts << QStringLiteral("Provision %1: %2.").arg(provisioned()).arg(split.join(QStringLiteral(", ")));
    }
    parts << notes;
    return parts.join(u' ');
}

QString Recommendation::headline() const
{
    if (region.isEmpty() || shares.isEmpty())
        return summary();
    QStringList regions;
    for (const Share &s : shares) {
        if (!regions.contains(s.region))
            regions << s.region;
    }
    QStringList parts;
    parts << QStringLiteral("%1: %2 failing and %3 degraded workers. Recommended: %4 replacements in %5, the healthy "
                            "regions with the most room that run each architecture.")
                 .arg(regionName.isEmpty() ? region : regionName)
                 .arg(failing())
                 .arg(degraded())
                 .arg(provisioned())
                 .arg(regions.join(QStringLiteral(", ")));
    parts << notes;
    return parts.join(u' ');
}

QList<FleetAction> Recommendation::actions(const QString &reason, qint64 expiresAt) const
{
    QList<FleetAction> out;
    for (const Share &s : shares) {
        if (s.count > 0)
            out.append(FleetAction::provision(s.region, s.count, s.arch, reason, expiresAt));
    }
    return out;
}

namespace {

int severity(Verdict v)
{
    switch (v) {
    case Verdict::Down:
        return 2;
    case Verdict::Degraded:
        return 1;
    case Verdict::Healthy:
    case Verdict::NoData:
        break;
    }
    return 0;
}

} // namespace

Recommendation recommend(
    const FleetStore &store, const HealthMonitor &monitor, const QString &wanted, const WorkerJudgement &judgement)
{
    Recommendation rec;
    const std::vector<Region> &regions = store.regions();
    QString region = wanted;
    if (region.isEmpty()) {
        int worst = 0;
        double worstLoss = -1;
        for (const Region &r : regions) {
            const int s = severity(monitor.verdict(r.id));
            if (s > worst || (s == worst && s > 0 && r.packetLoss > worstLoss)) {
                worst = s;
                worstLoss = r.packetLoss;
                region = r.id;
            }
        }
        if (region.isEmpty()) {
            rec.notes << QStringLiteral("Every region is healthy (or has no data yet): nothing to replace.");
            return rec;
        }
    }
    const int affectedRow = store.regionRow(region);
    if (affectedRow < 0) {
        rec.notes << QStringLiteral("There is no region \"%1\" in this fleet.").arg(region);
        return rec;
    }
    const Region &affected = regions[std::size_t(affectedRow)];
    rec.region = affected.id;
    rec.regionName = affected.name;

    // What needs replacing, per architecture; which architectures each region runs.
    std::array<Recommendation::Need, kArchCount> needs {};
    QHash<QString, std::array<int, kArchCount>> running;
    for (const Worker &w : store.workers()) {
        if (w.arch == Arch::Unknown)
            continue;
        const WorkerCondition c = judgeWorker(w, judgement);
        if (w.region == affected.id) {
            needs[int(w.arch)].arch = w.arch;
            if (c == WorkerCondition::Failing)
                ++needs[int(w.arch)].failing;
            else if (c == WorkerCondition::Degraded)
                ++needs[int(w.arch)].degraded;
        } else if (c == WorkerCondition::Fine || c == WorkerCondition::Degraded) {
            ++running[w.region][int(w.arch)];
        }
    }

    // Candidate regions and the room they have (shared by every architecture).
    struct Candidate
    {
        const Region *region;
        int room; // capacity left, decreasing as shares are given
        int perRequest;
    };
    std::vector<Candidate> candidates;
    for (const Region &r : regions) {
        if (r.id == affected.id)
            continue;
        const Verdict v = monitor.verdict(r.id);
        if (v != Verdict::Healthy) {
            rec.notes << QStringLiteral("%1 is left out: %2.")
                             .arg(r.id,
                                 v == Verdict::NoData ? QStringLiteral("no health data yet")
                                                      : QStringLiteral("it is not healthy either"));
            continue;
        }
        if (r.dispatchState != DispatchState::Active) {
            rec.notes << QStringLiteral("%1 is left out: it is %2.").arg(r.id, wireName(r.dispatchState));
            continue;
        }
        candidates.push_back({ &r, capacityLeft(r), r.capacity.maxProvisionPerRequest });
    }
    // Most room first: ties and remainders go to the biggest.
    std::stable_sort(
        candidates.begin(), candidates.end(), [](const Candidate &a, const Candidate &b) { return a.room > b.room; });

    for (const Recommendation::Need &need : needs) {
        if (need.total() == 0)
            continue;
        rec.needs.append(need);
        // The roomiest regions that run the architecture, as few as will hold it but two at least (so that one
        // region's trouble does not take every replacement), split evenly.
        std::vector<Candidate *> able;
        int room = 0;
        for (Candidate &c : candidates) {
            if (running.value(c.region->id)[int(need.arch)] == 0 || c.room == 0)
                continue;
            if (able.size() >= 2 && room >= need.total())
                break;
            able.push_back(&c);
            room += std::min(c.room, c.perRequest);
        }
        const int want = need.total();
        const int give = std::min(want, room);
        if (give < want)
            rec.notes << QStringLiteral("Only %1 of %2 %3 workers fit in the healthy regions that run %3.")
                             .arg(give)
                             .arg(want)
                             .arg(wireName(need.arch));
        if (give == 0)
            continue;
        std::vector<int> counts(able.size(), 0);
        int given = 0;
        while (given < give) {
            bool progressed = false;
            for (std::size_t i = 0; i < able.size() && given < give; ++i) {
                if (counts[i] < std::min(able[i]->room, able[i]->perRequest)) {
                    ++counts[i];
                    ++given;
                    progressed = true;
                }
            }
            if (!progressed)
                break;
        }
        for (std::size_t i = 0; i < able.size(); ++i) {
            if (counts[i] == 0)
                continue;
            rec.shares.append({ able[i]->region->id, need.arch, counts[i], able[i]->room });
            able[i]->room -= counts[i];
        }
    }
    if (rec.needs.isEmpty())
        rec.notes << QStringLiteral("No worker in %1 is failing or degraded.").arg(affected.id);
    rec.suggestedReason = QStringLiteral("Replace %1 failing or degraded workers in %2 (packet loss %3%)")
                              .arg(rec.failing() + rec.degraded())
                              .arg(affected.id)
                              .arg(std::lround(affected.packetLoss * 100));
    return rec;
}

} // namespace fleet
