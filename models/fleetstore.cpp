#include "fleetstore.h"

#include "fleetconnection.h"

#include <QLoggingCategory>
#include <QSet>

#include <algorithm>

Q_LOGGING_CATEGORY(lcModels, "fleet.models", QtInfoMsg)

namespace fleet {

bool sameWorker(const Worker &a, const Worker &b)
{
    return a.id == b.id && a.state == b.state && a.currentBuild == b.currentBuild
        && a.lastHeartbeatAt == b.lastHeartbeatAt && a.rttMs == b.rttMs && a.packetLoss == b.packetLoss
        && a.recentFailures == b.recentFailures && a.offlineReason == b.offlineReason && a.operation == b.operation
        && a.name == b.name && a.region == b.region && a.arch == b.arch && a.version == b.version
        && a.startedAt == b.startedAt && a.unknown == b.unknown;
}

bool sameRegion(const Region &a, const Region &b)
{
    return a.id == b.id && a.name == b.name && a.provider == b.provider && a.location == b.location
        && a.dispatchState == b.dispatchState && a.capacity.maxWorkers == b.capacity.maxWorkers
        && a.capacity.maxProvisionPerRequest == b.capacity.maxProvisionPerRequest
        && a.workersByState == b.workersByState && a.packetLoss == b.packetLoss && a.rttP50Ms == b.rttP50Ms
        && a.rttP95Ms == b.rttP95Ms && a.dispatchChangedBy == b.dispatchChangedBy
        && a.dispatchReason == b.dispatchReason && a.unknown == b.unknown;
}

FleetStore::FleetStore(QObject *parent, int historySeconds, int auditCapacity)
    : QObject(parent)
    , m_history(historySeconds)
{
    m_retention.auditEntries = std::max(auditCapacity, 1);
    qRegisterMetaType<fleet::FleetStore::Ranges>();
    m_frame.setObjectName(QStringLiteral("FleetStore frame")); // names it in bench/handlertiming.h
    m_frame.setSingleShot(true);
    m_frame.setInterval(16); // one update per frame at 60 Hz
    connect(&m_frame, &QTimer::timeout, this, &FleetStore::flush);
}

void FleetStore::attach(FleetConnection *connection)
{
    connect(connection, &FleetConnection::snapshotReceived, this, &FleetStore::applySnapshot);
    connect(connection, &FleetConnection::regionsPreviewed, this, &FleetStore::applyRegionsPreview);
    connect(connection, &FleetConnection::eventReceived, this, &FleetStore::applyEvent);
}

void FleetStore::scheduleFlush()
{
    if (!m_frame.isActive())
        m_frame.start();
}

void FleetStore::flush()
{
    m_frame.stop();
    m_workers.flushChanges();
    m_regions.flushChanges();
    m_operations.flushChanges();
    if (m_healthDirty) {
        m_healthDirty = false;
        Q_EMIT healthChanged(m_history.latestSecond());
    }
    const qint64 now = fleetNowMs();
    if (now - m_lastPruneMs >= 1000 || int(m_audit.size()) > m_retention.auditEntries)
        prune();
}

qint64 FleetStore::fleetNowMs() const
{
    return std::max(m_serverTime, m_history.latestSecond() * 1000);
}

void FleetStore::setRetention(const RetentionLimits &limits)
{
    m_retention = limits;
    m_retention.auditEntries = std::max(limits.auditEntries, 1);
    m_retention.finishedOperations = std::max(limits.finishedOperations, 0);
    prune();
}

void FleetStore::prune()
{
    const qint64 now = fleetNowMs();
    m_lastPruneMs = now;
    // Audit entries arrive oldest first: what goes is always a block at the front.
    const std::deque<AuditEntry> &audit = m_audit.rows();
    std::size_t drop = audit.size() > std::size_t(m_retention.auditEntries)
        ? audit.size() - std::size_t(m_retention.auditEntries)
        : 0;
    while (drop < audit.size() && now > 0 && audit[drop].time > 0 && now - audit[drop].time > m_retention.auditAgeMs)
        ++drop;
    m_audit.dropFront(int(drop));

    // Finished operations past their age, then the oldest finished beyond the count. In flight: always kept.
    const std::vector<Operation> &operations = m_operations.rows();
    std::vector<char> remove(operations.size(), 0);
    int finished = 0;
    for (const Operation &op : operations)
        finished += isTerminal(op.state) ? 1 : 0;
    int excess = finished - m_retention.finishedOperations;
    for (std::size_t i = 0; i < operations.size(); ++i) {
        const Operation &op = operations[i];
        if (!isTerminal(op.state))
            continue;
        const qint64 doneAt = op.finishedAt ? op.finishedAt : op.createdAt;
        if (excess > 0 || (now > 0 && doneAt > 0 && now - doneAt > m_retention.finishedOperationAgeMs)) {
            remove[i] = 1;
            --excess;
        }
    }
    m_operations.removeIf([&remove](int row) { return remove[std::size_t(row)] != 0; });
}

void FleetStore::markHealthChanged()
{
    m_healthDirty = true;
    scheduleFlush();
}

void FleetStore::clear()
{
    flush();
    m_workers.reset({});
    m_regions.reset({});
    m_operations.reset({});
    m_audit.dropFront(m_audit.size());
    m_history.clear();
    m_sequence = 0;
    m_serverTime = 0;
    m_loaded = false;
    markHealthChanged(); // the models and charts learn that the history is empty
}

void FleetStore::applySnapshot(const Snapshot &snapshot)
{
    flush(); // pending row numbers refer to the old membership
    m_sequence = snapshot.sequence;
    m_serverTime = snapshot.time;

    if (!m_loaded) {
        // The first load is the one time a reset is right. One copy, with room to grow (EntityRows::reset).
        std::vector<Worker> rows;
        rows.reserve(EntityRows<Worker>::withRoom(snapshot.workers.size()));
        rows.assign(snapshot.workers.begin(), snapshot.workers.end());
        m_workers.reset(std::move(rows));
        m_loaded = true;
    } else {
        // A resync: converge on the snapshot in place. Removed workers go in ranges, from the bottom up; new ones
        // join at the end as one range.
        QSet<QString> incoming;
        incoming.reserve(qsizetype(snapshot.workers.size()));
        for (const Worker &w : snapshot.workers)
            incoming.insert(w.id);
        const std::vector<Worker> &current = m_workers.rows();
        m_workers.removeIf([&](int row) { return !incoming.contains(current[std::size_t(row)].id); });
        std::vector<Worker> fresh;
        for (const Worker &w : snapshot.workers) {
            if (m_workers.rowOf(w.id) >= 0)
                upsertWorker(w);
            else
                fresh.push_back(w);
        }
        m_workers.append(std::move(fresh)); // counted by the snapshot's regions, applied next
    }

    const std::vector<Region> &regions = m_regions.rows();
    if (regions.size() != snapshot.regions.size()
        || !std::equal(regions.begin(), regions.end(), snapshot.regions.begin(),
            [](const Region &a, const Region &b) { return a.id == b.id; })) {
        m_regions.reset(snapshot.regions);
    } else {
        for (const Region &r : snapshot.regions)
            upsertRegion(r);
    }
    for (const Operation &op : snapshot.operations)
        m_operations.upsert(op, [](const Operation &, const Operation &) { return false; });
    flush();
    Q_EMIT snapshotApplied(m_sequence);
}

void FleetStore::applyRegionsPreview(const std::vector<Region> &regions, qint64 serverTimeMs)
{
    if (m_loaded || regions.empty())
        return;
    flush();
    m_serverTime = std::max(m_serverTime, serverTimeMs);
    m_regions.reset(regions);
    flush();
    Q_EMIT regionsPreviewApplied();
}

void FleetStore::applyEvent(const FleetEvent &event)
{
    if (event.id > 0)
        m_sequence = event.id;
    std::visit(
        [this](const auto &payload) {
            using T = std::decay_t<decltype(payload)>;
            if constexpr (std::is_same_v<T, Worker>) {
                upsertWorker(payload);
            } else if constexpr (std::is_same_v<T, Region>) {
                upsertRegion(payload);
            } else if constexpr (std::is_same_v<T, RegionHealth>) {
                m_history.record(payload.region, payload.sample);
                m_serverTime = std::max(m_serverTime, payload.sample.time);
                m_healthDirty = true;
                scheduleFlush();
            } else if constexpr (std::is_same_v<T, Operation>) {
                m_operations.upsert(payload, [](const Operation &, const Operation &) { return false; });
                scheduleFlush();
            } else if constexpr (std::is_same_v<T, AuditEntry>) {
                appendAudit(payload);
            }
            // Resync is the connection's business; unknown event types are not applied.
        },
        event.payload);
}

void FleetStore::countWorker(const Worker &worker, int delta)
{
    // Region events carry worker counts only when dispatch or network conditions change; the store keeps the
    // counts current from the workers themselves.
    if (worker.state == WorkerState::Unknown)
        return;
    const int r = m_regions.rowOf(worker.region);
    if (r < 0)
        return;
    m_regions.editRow(r, [&](Region &region) {
        region.workersByState[int(worker.state)] += delta;
        return true;
    });
    scheduleFlush();
}

void FleetStore::upsertWorker(const Worker &worker)
{
    if (const Worker *current = m_workers.find(worker.id)) {
        if (!sameWorker(*current, worker) && (current->state != worker.state || current->region != worker.region)) {
            countWorker(*current, -1);
            countWorker(worker, +1);
        }
    } else {
        countWorker(worker, +1);
    }
    m_workers.upsert(worker, &sameWorker);
    scheduleFlush();
}

void FleetStore::upsertRegion(const Region &region)
{
    if (m_regions.rowOf(region.id) < 0) {
        // A region appeared: rare enough for a reset of the small region list.
        std::vector<Region> regions = m_regions.rows();
        regions.push_back(region);
        m_regions.reset(std::move(regions));
        return;
    }
    m_regions.upsert(region, &sameRegion);
    scheduleFlush();
}

void FleetStore::appendAudit(const AuditEntry &entry)
{
    if (m_audit.size() >= m_retention.auditEntries)
        m_audit.dropFront(1); // bounded: the oldest entry goes
    m_audit.append(entry);
}

} // namespace fleet
