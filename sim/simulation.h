#pragma once

#include "eventlog.h"
#include "fleettypes.h"
#include "scenario.h"

#include <QHash>
#include <QStringList>

#include <deque>
#include <optional>
#include <queue>
#include <random>
#include <vector>

namespace fleet::sim {

struct SimulationOptions
{
    quint64 seed = 1;
    int workers = 0; // 0: as many as the scenario lists; otherwise the scenario's regions scaled to this total
    int historySeconds = 86400;
    int eventBufferSize = 65536;
    qint64 eventIdBase = 0; // event ids start after this (fleet-sim: its start time in microseconds)
};

// Who asks for an action, and how.
struct ActionRequest
{
    QString actor;
    Role role = Role::Operator;
    QString idempotencyKey;
    QString reason;
    qint64 expiresAt = 0;
    bool dryRun = false;
};

// What an action would touch; returned by dry runs and kept with every real action.
struct Impact
{
    int workersAffected = 0;
    int runningBuilds = 0;
    int queuedBuilds = 0;
    int activeWorkersBefore = 0; // workers able to take builds in the region
    int activeWorkersAfter = 0;
    int regionWorkers = 0; // non-terminated workers in the region
    int maxWorkers = 0;
    QStringList notes;
};

struct ActionResult
{
    enum class Outcome { Created, Replayed, DryRun, NotFound, Conflict, Invalid, KeyReused };
    Outcome outcome = Outcome::Created;
    QString detail; // for errors: what is wrong and what to do
    QString field; // for Invalid: the request field at fault
    int operation = -1; // Created, Replayed; for Conflict the operation in the way, if any
    Impact impact;
};

// Per-region totals since the start, for /metrics.
struct RegionTotals
{
    qint64 buildsStarted = 0;
    qint64 buildsSucceeded = 0;
    qint64 buildsFailed = 0;
    std::array<qint64, kFailureReasonCount> failures {};
};

// The simulated builder fleet: regions, workers, builds, network conditions, operations and audit.
// Deterministic for a given scenario, options and sequence of step() and action calls. Knows nothing of HTTP.
class Simulation
{
public:
    Simulation(Scenario scenario, SimulationOptions options);

    const Scenario &scenario() const { return m_scenario; }
    const SimulationOptions &options() const { return m_options; }
    qint64 now() const { return m_now; }

    void step(); // one simulated second
    void advance(int seconds);

    int regionCount() const { return static_cast<int>(m_regions.size()); }
    int regionIndex(QStringView id) const;
    const Region &region(int index) const { return m_regions[index].info; }
    const RegionTotals &regionTotals(int index) const { return m_regions[index].totals; }
    int queuedBuilds(int region) const;

    int workerCount() const { return static_cast<int>(m_workers.size()); }
    int workerIndex(QStringView id) const;
    int workerLowerBound(QStringView id) const; // first worker with id > `id` (ids sort in creation order)
    const Worker &worker(int index) const { return m_workers[index].w; }

    // Buckets of `stepSeconds` covering [from, to); buckets with no retained data have samples == 0.
    std::vector<HealthSample> health(int region, qint64 from, qint64 to, int stepSeconds) const;
    qint64 historyStart() const; // oldest time with data

    const std::vector<Operation> &operations() const { return m_operations; }
    int operationIndex(QStringView id) const;
    const std::vector<AuditEntry> &audit() const { return m_audit; }

    // GET /v1/fleet/snapshot: every region and worker, the operations in flight and the 100 most recent finished
    // ones, as of events().lastId().
    QByteArray snapshotJson() const;

    EventLog &events() { return m_events; }
    const EventLog &events() const { return m_events; }

    ActionResult provision(int region, int count, Arch arch, const ActionRequest &request);
    ActionResult drainWorker(int worker, const ActionRequest &request);
    ActionResult drainRegion(int region, const ActionRequest &request);
    ActionResult resumeRegion(int region, const ActionRequest &request);
    ActionResult cancel(int operation, const ActionRequest &request);

    // Changes a region's network conditions by hand (simulator control), ramping over `rampSeconds`.
    void setConditions(int region, std::optional<double> packetLoss, std::optional<double> rttMs, int rampSeconds);

    void recordAudit(AuditEntry entry);

private:
    struct Condition
    {
        double from = 0;
        double to = 0;
        qint64 rampStart = 0;
        qint64 rampEnd = 0;
        double value(qint64 t) const;
        void rampTo(double target, qint64 now, int rampSeconds);
    };

    struct QueuedBuild
    {
        qint64 id;
        qint64 enqueuedAt;
    };

    struct CompactSample
    {
        std::array<quint32, kWorkerStateCount> workers;
        quint16 started, succeeded, failed;
        std::array<quint16, kFailureReasonCount> failures;
        float rttP50, rttP95, loss, waitP50, waitP95;
        quint32 queueDepth;
        bool valid;
    };

    struct RegionState
    {
        Region info;
        double weight = 1;
        Condition loss, rtt, demand;
        std::array<std::deque<QueuedBuild>, kArchCount> queues;
        std::array<std::vector<int>, kArchCount> idle;
        int started = 0, succeeded = 0, failed = 0;
        FailureCounts failures {};
        std::vector<double> waits;
        RegionTotals totals;
        std::vector<CompactSample> history;
        int drainOperation = -1;
        int busyAtDrainStart = 0;
        double emittedLoss = -1, emittedRtt = -1;
        int liveWorkers = 0; // non-terminated
    };

    struct SimWorker
    {
        Worker w;
        int region = 0;
        float rttFactor = 1;
        float lossFactor = 1;
        int idleSlot = -1;
        quint32 timerGeneration = 0;
        int outcome = -1; // -1 success, else FailureReason of the running build
        int missedHeartbeats = 0;
        int provisionOperation = -1;
        int drainOperation = -1;
        bool terminateWhenDone = false;
        std::vector<std::pair<qint64, quint8>> failureLog;
    };

    struct Timer
    {
        qint64 at;
        int worker;
        quint32 generation;
        bool operator>(const Timer &o) const { return at != o.at ? at > o.at : worker > o.worker; }
    };

    struct IdempotencyRecord
    {
        QString fingerprint;
        int operation;
    };

    void createInitialWorkers();
    int addWorker(int region, Arch arch, WorkerState state, qint64 startedAt, int provisionOperation = -1);
    void transition(int index, WorkerState to, const QString &offlineReason = {});
    void emitWorker(int index);
    void emitRegion(int region);
    void emitOperation(int op);
    void applyTimeline();
    void processTimers();
    void arrivals();
    void dispatch();
    void startBuild(int workerIndex, int originRegion, const QueuedBuild &build);
    void finishBuild(int workerIndex);
    void heartbeats();
    void processExpiries();
    void updateDrains();
    void recordHealth();
    // The region's network as of sample `c` (a region event when it moved), and the sample as a health event.
    void emitHealth(int region, const CompactSample &c, double loss, double rtt);
    // A replay (Scenario::recording): the recorded second instead of a simulated one.
    void replaySecond();
    void matchCounts(int region, const std::array<float, 16> &values);
    std::optional<ActionResult> refusedInReplay() const;
    void finishOperation(int op, OperationState state, const QString &message);
    void updateOperation(int op);
    Impact regionImpact(int region) const;
    int dispatchableWorkers(int region) const;
    std::optional<ActionResult> replayed(const ActionRequest &request, const QString &fingerprint) const;
    int createOperation(OperationType type, int region, const ActionRequest &request, const QString &fingerprint);
    void auditAction(const ActionRequest &request, const QString &action, const QString &target, const QString &result,
        const QString &detail, int op);
    double uniform() { return m_uniform(m_rng); }
    double buildDuration();
    HealthSample expand(const CompactSample &c, qint64 time) const;

    Scenario m_scenario;
    SimulationOptions m_options;
    std::mt19937_64 m_rng;
    std::uniform_real_distribution<double> m_uniform { 0.0, 1.0 };
    std::normal_distribution<double> m_normal { 0.0, 1.0 };
    qint64 m_now = 0;
    bool m_creatingFleet = true;
    qint64 m_historyStart = 0;
    std::size_t m_nextTimelineEvent = 0;
    std::size_t m_nextRecordedOperation = 0;
    double m_totalBuildRate = 0; // builds per second across the fleet at demand 1
    qint64 m_nextBuildId = 1;
    int m_nextWorkerNumber = 1;

    std::vector<RegionState> m_regions;
    std::vector<SimWorker> m_workers;
    QHash<QString, int> m_workerById;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<>> m_timers;
    std::vector<Operation> m_operations;
    QHash<QString, int> m_operationById;
    std::vector<int> m_expiring; // operations with an expiry still to act on
    QHash<QString, IdempotencyRecord> m_idempotency; // actor + key
    std::vector<AuditEntry> m_audit;
    EventLog m_events;
};

} // namespace fleet::sim
