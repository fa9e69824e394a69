#include "fleetstore.h"

#include "fleetconnection.h"

#include <QLoggingCategory>

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
    m_frame.setSingleShot(true);
    m_frame.setInterval(16); // one update per frame at 60 Hz
    connect(&m_frame, &QTimer::timeout, this, &FleetStore::flush);
}

void FleetStore::attach(FleetConnection *connection)
{
    connect(connection, &FleetConnection::snapshotReceived, this, &FleetStore::applySnapshot);
    connect(connection, &FleetConnection::eventReceived, this, &FleetStore::applyEvent);
}

int FleetStore::regionRow(const QString &id) const
{
    for (std::size_t i = 0; i < m_regions.size(); ++i) {
        if (m_regions[i].id == id)
            return int(i);
    }
    return -1;
}

void FleetStore::scheduleFlush()
{
    if (!m_frame.isActive())
        m_frame.start();
}

void FleetStore::mark(EntityTable &table, int row)
{
    table.mark(row);
    scheduleFlush();
}

void FleetStore::flush()
{
    m_frame.stop();
    m_workerTable.flushChanges();
    m_regionTable.flushChanges();
    m_operationTable.flushChanges();
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
    std::size_t drop = m_audit.size() > std::size_t(m_retention.auditEntries)
        ? m_audit.size() - std::size_t(m_retention.auditEntries)
        : 0;
    while (
        drop < m_audit.size() && now > 0 && m_audit[drop].time > 0 && now - m_audit[drop].time > m_retention.auditAgeMs)
        ++drop;
    if (drop > 0) {
        m_auditTable.beginRemove(0, int(drop) - 1);
        m_audit.erase(m_audit.begin(), m_audit.begin() + qsizetype(drop));
        m_auditTable.endRemove();
    }

    // Finished operations past their age, then the oldest finished beyond the count. In flight: always kept.
    std::vector<char> remove(m_operations.size(), 0);
    int finished = 0;
    for (const Operation &op : m_operations)
        finished += isTerminal(op.state) ? 1 : 0;
    int excess = finished - m_retention.finishedOperations;
    for (std::size_t i = 0; i < m_operations.size(); ++i) {
        const Operation &op = m_operations[i];
        if (!isTerminal(op.state))
            continue;
        const qint64 doneAt = op.finishedAt ? op.finishedAt : op.createdAt;
        if (excess > 0 || (now > 0 && doneAt > 0 && now - doneAt > m_retention.finishedOperationAgeMs)) {
            remove[i] = 1;
            --excess;
        }
    }
    if (std::find(remove.begin(), remove.end(), 1) == remove.end())
        return;
    // Pending per-row changes refer to rows about to move: the table sends them first (beginRemove).
    // Remove in contiguous blocks, last block first, so earlier rows keep their numbers while signalling.
    for (int last = int(m_operations.size()) - 1; last >= 0;) {
        if (!remove[std::size_t(last)]) {
            --last;
            continue;
        }
        int first = last;
        while (first > 0 && remove[std::size_t(first - 1)])
            --first;
        m_operationTable.beginRemove(first, last);
        m_operations.erase(m_operations.begin() + first, m_operations.begin() + last + 1);
        m_operationTable.endRemove();
        last = first - 1;
    }
    m_operationRow.clear();
    for (std::size_t i = 0; i < m_operations.size(); ++i)
        m_operationRow.insert(m_operations[i].id, int(i));
}

void FleetStore::markHealthChanged()
{
    m_healthDirty = true;
    scheduleFlush();
}

void FleetStore::rebuildWorkerIndex()
{
    m_workerRow.clear();
    m_workerRow.reserve(qsizetype(m_workers.size()));
    for (std::size_t i = 0; i < m_workers.size(); ++i)
        m_workerRow.insert(m_workers[i].id, int(i));
}

void FleetStore::clear()
{
    flush();
    m_workerTable.beginReset();
    m_workers.clear();
    m_workerRow.clear();
    m_workerTable.endReset();
    m_regionTable.beginReset();
    m_regions.clear();
    m_regionTable.endReset();
    m_operationTable.beginReset();
    m_operations.clear();
    m_operationRow.clear();
    m_operationTable.endReset();
    if (!m_audit.empty()) {
        m_auditTable.beginRemove(0, int(m_audit.size()) - 1);
        m_audit.clear();
        m_auditTable.endRemove();
    }
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
        // The first load is the one time a reset is right.
        m_workerTable.beginReset();
        m_workers = snapshot.workers;
        rebuildWorkerIndex();
        m_workerTable.endReset();
        m_loaded = true;
    } else {
        // A resync: converge on the snapshot in place. Removed workers go in ranges, from the bottom up.
        QHash<QString, int> incoming;
        incoming.reserve(qsizetype(snapshot.workers.size()));
        for (std::size_t i = 0; i < snapshot.workers.size(); ++i)
            incoming.insert(snapshot.workers[i].id, int(i));
        std::vector<int> gone;
        for (std::size_t i = 0; i < m_workers.size(); ++i) {
            if (!incoming.contains(m_workers[i].id))
                gone.push_back(int(i));
        }
        for (auto it = gone.rbegin(); it != gone.rend();) {
            int last = *it;
            int first = last;
            while (++it != gone.rend() && *it == first - 1)
                first = *it;
            m_workerTable.beginRemove(first, last);
            m_workers.erase(m_workers.begin() + first, m_workers.begin() + last + 1);
            m_workerTable.endRemove();
        }
        if (!gone.empty())
            rebuildWorkerIndex();
        std::vector<const Worker *> fresh;
        for (const Worker &w : snapshot.workers) {
            if (m_workerRow.contains(w.id))
                upsertWorker(w);
            else
                fresh.push_back(&w);
        }
        if (!fresh.empty()) {
            // New workers join at the end, as one range.
            const int first = int(m_workers.size());
            m_workerTable.beginInsert(first, first + int(fresh.size()) - 1);
            for (const Worker *w : fresh) {
                m_workerRow.insert(w->id, int(m_workers.size()));
                m_workers.push_back(*w);
            }
            m_workerTable.endInsert();
        }
    }

    if (m_regions.size() != snapshot.regions.size()
        || !std::equal(m_regions.begin(), m_regions.end(), snapshot.regions.begin(),
            [](const Region &a, const Region &b) { return a.id == b.id; })) {
        m_regionTable.beginReset();
        m_regions = snapshot.regions;
        m_regionTable.endReset();
    } else {
        for (const Region &r : snapshot.regions)
            upsertRegion(r);
    }
    for (const Operation &op : snapshot.operations)
        upsertOperation(op);
    flush();
    Q_EMIT snapshotApplied(m_sequence);
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
                upsertOperation(payload);
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
    const int r = regionRow(worker.region);
    if (r < 0)
        return;
    m_regions[std::size_t(r)].workersByState[int(worker.state)] += delta;
    mark(m_regionTable, r);
}

void FleetStore::upsertWorker(const Worker &worker)
{
    const int row = m_workerRow.value(worker.id, -1);
    if (row >= 0) {
        Worker &current = m_workers[std::size_t(row)];
        if (!sameWorker(current, worker)) {
            if (current.state != worker.state || current.region != worker.region) {
                countWorker(current, -1);
                countWorker(worker, +1);
            }
            current = worker;
            mark(m_workerTable, row);
        }
        return;
    }
    countWorker(worker, +1);
    const int at = int(m_workers.size());
    m_workerTable.beginInsert(at, at);
    m_workers.push_back(worker);
    m_workerRow.insert(worker.id, at);
    m_workerTable.endInsert();
}

void FleetStore::upsertRegion(const Region &region)
{
    const int row = regionRow(region.id);
    if (row >= 0) {
        if (!sameRegion(m_regions[std::size_t(row)], region)) {
            m_regions[std::size_t(row)] = region;
            mark(m_regionTable, row);
        }
        return;
    }
    // A region appeared: rare enough for a reset of the small region list.
    m_regionTable.beginReset();
    m_regions.push_back(region);
    m_regionTable.endReset();
}

void FleetStore::upsertOperation(const Operation &operation)
{
    const int row = m_operationRow.value(operation.id, -1);
    if (row >= 0) {
        m_operations[std::size_t(row)] = operation;
        mark(m_operationTable, row);
        return;
    }
    const int at = int(m_operations.size());
    m_operationTable.beginInsert(at, at);
    m_operations.push_back(operation);
    m_operationRow.insert(operation.id, at);
    m_operationTable.endInsert();
}

void FleetStore::appendAudit(const AuditEntry &entry)
{
    if (int(m_audit.size()) >= m_retention.auditEntries) {
        m_auditTable.beginRemove(0, 0); // bounded: the oldest entry goes
        m_audit.pop_front();
        m_auditTable.endRemove();
    }
    const int at = int(m_audit.size());
    m_auditTable.beginInsert(at, at);
    m_audit.push_back(entry);
    m_auditTable.endInsert();
}

} // namespace fleet
