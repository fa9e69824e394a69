#pragma once

#include "entitytable.h"
#include "fleettypes.h"
#include "healthtimeline.h"

#include <QObject>
#include <QTimer>

#include <deque>
#include <utility>
#include <vector>

namespace fleet {

class FleetConnection;

// How much finished activity the store keeps, so that a console running for days stays bounded. Operations in
// flight are always kept; finished ones and audit entries leave by count and by age (fleet time).
struct RetentionLimits
{
    int finishedOperations = 2000;
    qint64 finishedOperationAgeMs = 24 * 3600 * 1000LL;
    int auditEntries = 10000;
    qint64 auditAgeMs = 24 * 3600 * 1000LL;
};

// The console's single source of truth: the fleet as of event `sequence()`, fed by a snapshot and then event
// deltas, plus the health history. Each kind of row speaks one protocol, its EntityTable: membership changes are
// signalled at once (about-to / done pairs, in ranges); changes to existing rows are coalesced and signalled once per
// frame as contiguous row ranges. Qt Core only:
// the desktop window, the war-room display and fleetctl share it.
class FleetStore : public QObject
{
    Q_OBJECT

public:
    using Ranges = EntityTable::Ranges;

    explicit FleetStore(QObject *parent = nullptr, int historySeconds = 86400, int auditCapacity = 10000);

    void attach(FleetConnection *connection);

    void applySnapshot(const Snapshot &snapshot);
    // The regions before the first snapshot (FleetConnection::regionsPreviewed): shown at once, replaced by the
    // snapshot. Ignored once a snapshot is loaded.
    void applyRegionsPreview(const std::vector<Region> &regions, qint64 serverTimeMs);
    void applyEvent(const FleetEvent &event);
    void flush(); // emit the coalesced changes now (the frame timer does it otherwise)
    // Forgets everything (another fleet is about to be shown): every model is reset and the history emptied; the next
    // snapshot is a first load again.
    void clear();
    void markHealthChanged(); // the timeline changed outside applyEvent (a backfill): tell the models

    void setRetention(const RetentionLimits &limits);
    const RetentionLimits &retention() const { return m_retention; }
    void prune(); // applies the retention limits now (flush() does it too, at most once a fleet second)

    bool isLoaded() const { return m_loaded; }
    qint64 sequence() const { return m_sequence; }
    qint64 serverTime() const { return m_serverTime; }
    // The fleet's clock as far as this store knows: the latest server time or health second (simulated time on a
    // simulator running faster than real time).
    qint64 fleetNowMs() const;

    const std::vector<Worker> &workers() const { return m_workers.rows(); }
    int workerRow(const QString &id) const { return m_workers.rowOf(id); }
    const std::vector<Region> &regions() const { return m_regions.rows(); }
    int regionRow(const QString &id) const { return m_regions.rowOf(id); }
    const std::vector<Operation> &operations() const { return m_operations.rows(); }
    int operationRow(const QString &id) const { return m_operations.rowOf(id); }
    const std::deque<AuditEntry> &audit() const { return m_audit.rows(); }
    const HealthTimeline &history() const { return m_history; }
    HealthTimeline &history() { return m_history; }

    // Each kind's one row protocol (resets, inserts, removes at once; row changes coalesced once per frame), which
    // the table models, the action controller and fleetctl follow.
    EntityTable *workerTable() { return &m_workers; }
    EntityTable *regionTable() { return &m_regions; }
    EntityTable *operationTable() { return &m_operations; }
    EntityTable *auditTable() { return &m_audit; }

Q_SIGNALS:
    void healthChanged(qint64 latestSecond); // once per frame when samples arrived
    void snapshotApplied(qint64 sequence);
    void regionsPreviewApplied(); // the regions are in, the workers not yet (isLoaded() is false)

private:
    void upsertWorker(const Worker &worker);
    void countWorker(const Worker &worker, int delta);
    void upsertRegion(const Region &region);
    void appendAudit(const AuditEntry &entry);
    void scheduleFlush();

    // Each kind's rows, id index and protocol in one (the tables the models follow).
    EntityRows<Worker> m_workers;
    EntityRows<Region> m_regions;
    EntityRows<Operation> m_operations;
    EntityLog<AuditEntry> m_audit;
    RetentionLimits m_retention;
    qint64 m_lastPruneMs = 0;
    HealthTimeline m_history;
    qint64 m_sequence = 0;
    qint64 m_serverTime = 0;
    bool m_loaded = false;
    bool m_healthDirty = false;
    QTimer m_frame;
};

bool sameWorker(const Worker &a, const Worker &b);
bool sameRegion(const Region &a, const Region &b);

} // namespace fleet
