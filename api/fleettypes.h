#pragma once

#include <QMap>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QStringView>

#include <array>
#include <optional>
#include <variant>
#include <vector>

// Plain value types of the Fleet API v1 wire contract (resources/api/fleet-api.yaml).
// Times are milliseconds since the Unix epoch, UTC; 0 means "not set".
namespace fleet {

Q_NAMESPACE

// Each enum ends with Unknown: a value a newer server sent that this client does not know. Decoders keep the
// raw spelling in the struct's `unknown` map (field name -> value) so it can be shown as "unknown: <value>".
// The *Count constants count the known values only.
enum class Arch { Amd64, Aarch64, Armv7hf, Unknown };
inline constexpr int kArchCount = 3;

enum class WorkerState { Provisioning, Idle, Busy, Draining, Offline, Terminated, Unknown };
inline constexpr int kWorkerStateCount = 6;

enum class DispatchState { Active, Draining, Drained, Unknown };

enum class FailureReason { ETimedOut, EConnReset, EHostUnreach, BuildError };
inline constexpr int kFailureReasonCount = 4;

enum class OperationType { Provision, DrainWorker, DrainRegion, ResumeRegion, Unknown };

enum class OperationState { Pending, Running, Succeeded, Failed, Cancelled, Unknown };

enum class Role { Viewer, Operator, Admin, Unknown };

Q_ENUM_NS(Arch)
Q_ENUM_NS(WorkerState)
Q_ENUM_NS(DispatchState)
Q_ENUM_NS(FailureReason)
Q_ENUM_NS(OperationType)
Q_ENUM_NS(OperationState)
Q_ENUM_NS(Role)

// Wire spellings. Each *FromString returns std::nullopt for a spelling it does not know.
QStringView wireName(Arch value);
QStringView wireName(WorkerState value);
QStringView wireName(DispatchState value);
QStringView wireName(FailureReason value);
QStringView wireName(OperationType value);
QStringView wireName(OperationState value);
QStringView wireName(Role value);
std::optional<Arch> archFromString(QStringView text);
std::optional<WorkerState> workerStateFromString(QStringView text);
std::optional<DispatchState> dispatchStateFromString(QStringView text);
std::optional<FailureReason> failureReasonFromString(QStringView text);
std::optional<Role> roleFromString(QStringView text);
std::optional<OperationType> operationTypeFromString(QStringView text);
std::optional<OperationState> operationStateFromString(QStringView text);

bool isTerminal(OperationState state);

using FailureCounts = std::array<int, kFailureReasonCount>;
using WorkerCounts = std::array<int, kWorkerStateCount>;

struct Capacity
{
    int maxWorkers = 0;
    int maxProvisionPerRequest = 0;
};

struct Region
{
    QString id;
    QString name;
    QString provider;
    QString location;
    DispatchState dispatchState = DispatchState::Active;
    Capacity capacity;
    WorkerCounts workersByState {};
    double packetLoss = 0; // ratio 0..1, as observed now
    double rttP50Ms = 0;
    double rttP95Ms = 0;
    QString dispatchChangedBy;
    QString dispatchReason;
    QMap<QString, QString> unknown; // unknown enum values and extra fields, as sent
};

struct Worker
{
    QString id;
    QString name;
    QString region;
    Arch arch = Arch::Amd64;
    WorkerState state = WorkerState::Idle;
    QString version;
    qint64 startedAt = 0;
    qint64 lastHeartbeatAt = 0;
    QString currentBuild; // empty when not busy
    double rttMs = 0;
    double packetLoss = 0;
    FailureCounts recentFailures {}; // last 15 minutes
    QString offlineReason; // "drained", "heartbeat_lost", "expired", "cancelled" or empty
    QString operation; // operation that provisioned or drains this worker, if any
    QMap<QString, QString> unknown; // unknown enum values, failure reasons and extra fields, as sent
};

// One health bucket of a region. `samples` is the number of one-second samples behind it; 0 means no data.
struct HealthSample
{
    qint64 time = 0; // start of the bucket
    int stepSeconds = 1;
    int samples = 0;
    WorkerCounts workersByState {};
    int buildsStarted = 0;
    int buildsSucceeded = 0;
    int buildsFailed = 0;
    FailureCounts failures {};
    double rttP50Ms = 0;
    double rttP95Ms = 0;
    double packetLoss = 0;
    int queueDepth = 0;
    double waitP50Seconds = 0;
    double waitP95Seconds = 0;
};

struct Operation
{
    QString id;
    OperationType type = OperationType::Provision;
    OperationState state = OperationState::Pending;
    QString region;
    QString worker;
    int count = 0; // provision only
    Arch arch = Arch::Amd64; // provision only
    int progressDone = 0;
    int progressTotal = 0;
    QString reason;
    QString requestedBy;
    QString idempotencyKey;
    qint64 createdAt = 0;
    qint64 updatedAt = 0;
    qint64 finishedAt = 0;
    qint64 expiresAt = 0;
    QString message; // what happened, in words (why it failed, why it was cancelled, ...)
    QMap<QString, QString> unknown;
};

struct AuditEntry
{
    QString id;
    qint64 time = 0;
    QString actor;
    Role role = Role::Viewer;
    QString action; // e.g. "provision", "drain_region", "cancel", "sim.fault"
    QString target;
    QString reason;
    QString result; // "accepted", "replayed", "rejected", "succeeded", "failed", "cancelled"
    QString detail;
    QString operation;
    QMap<QString, QString> unknown;
};

struct Identity
{
    QString id;
    QString name;
    Role role = Role::Viewer;
    qint64 serverTime = 0;
};

// One page of a list endpoint.
template <typename T> struct Page
{
    std::vector<T> items;
    QString nextCursor; // empty on the last page
    int total = 0;
};

// GET /v1/regions/{id}/health
struct HealthHistory
{
    QString region;
    qint64 from = 0;
    qint64 to = 0;
    int stepSeconds = 0;
    qint64 historyStart = 0;
    std::vector<HealthSample> buckets;
    QStringList warnings; // what the source said about the answer (Prometheus's warnings), shown with the chart
};

// The answer to an action sent with ?dry_run=true.
struct DryRunResult
{
    QString action;
    QString target;
    int workersAffected = 0;
    int runningBuilds = 0;
    int queuedBuilds = 0;
    int activeWorkersBefore = 0;
    int activeWorkersAfter = 0;
    int regionWorkers = 0;
    int maxWorkers = 0;
    int capacityLeft = 0;
    QStringList notes;
};

// An RFC 9457 problem document from the server.
struct Problem
{
    QString type;
    QString title;
    int status = 0;
    QString detail;
    QString operation;
    QList<QPair<QString, QString>> invalidParams; // name, reason
};

// GET /v1/fleet/snapshot: the whole fleet as of event `sequence`.
struct Snapshot
{
    qint64 sequence = 0;
    qint64 time = 0;
    std::vector<Region> regions;
    std::vector<Worker> workers;
    std::vector<Operation> operations;
};

// One health bucket of one region, as carried by a "health" event.
struct RegionHealth
{
    QString region;
    HealthSample sample;
};

// The server lost events this client needs: refetch the snapshot, then resume after its sequence.
struct Resync
{
    QString reason;
    qint64 sequence = 0;
};

// One event of GET /v1/events, decoded. `payload` is std::monostate for an event type this client does not know.
struct FleetEvent
{
    qint64 id = 0;
    QString type;
    std::variant<std::monostate, Worker, Region, RegionHealth, Operation, AuditEntry, Resync> payload;
};

} // namespace fleet
