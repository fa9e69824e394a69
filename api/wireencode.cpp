#include "wireencode.h"

#include "jsonwriter.h"

namespace fleet {

namespace {

// Keys as Latin-1 C strings for JsonWriter::key.
constexpr const char *kWorkerStateKeys[] = { "provisioning", "idle", "busy", "draining", "offline", "terminated" };
constexpr const char *kFailureKeys[] = { "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH", "build_error" };

} // namespace

void writeWorkerCounts(JsonWriter &w, const WorkerCounts &counts)
{
    w.beginObject();
    for (int i = 0; i < kWorkerStateCount; ++i)
        w.field(kWorkerStateKeys[i], counts[i]);
    w.endObject();
}

void writeFailureCounts(JsonWriter &w, const FailureCounts &counts)
{
    w.beginObject();
    for (int i = 0; i < kFailureReasonCount; ++i)
        w.field(kFailureKeys[i], counts[i]);
    w.endObject();
}

void writeWorker(JsonWriter &w, const Worker &worker)
{
    w.beginObject();
    w.field("id", QStringView(worker.id));
    w.field("name", QStringView(worker.name));
    w.field("region", QStringView(worker.region));
    w.field("arch", wireName(worker.arch));
    w.field("state", wireName(worker.state));
    w.field("version", QStringView(worker.version));
    w.key("started_at");
    w.timestamp(worker.startedAt);
    w.key("last_heartbeat_at");
    w.timestamp(worker.lastHeartbeatAt);
    w.nullableString("current_build", worker.currentBuild);
    w.field("rtt_ms", worker.rttMs);
    w.field("packet_loss", worker.packetLoss);
    w.key("recent_failures");
    writeFailureCounts(w, worker.recentFailures);
    w.nullableString("offline_reason", worker.offlineReason);
    w.nullableString("operation", worker.operation);
    w.endObject();
}

void writeRegion(JsonWriter &w, const Region &region)
{
    w.beginObject();
    w.field("id", QStringView(region.id));
    w.field("name", QStringView(region.name));
    w.field("provider", QStringView(region.provider));
    w.field("location", QStringView(region.location));
    w.field("dispatch_state", wireName(region.dispatchState));
    w.nullableString("dispatch_changed_by", region.dispatchChangedBy);
    w.nullableString("dispatch_reason", region.dispatchReason);
    w.key("capacity");
    w.beginObject();
    w.field("max_workers", region.capacity.maxWorkers);
    w.field("max_provision_per_request", region.capacity.maxProvisionPerRequest);
    w.endObject();
    w.key("workers_by_state");
    writeWorkerCounts(w, region.workersByState);
    w.key("network");
    w.beginObject();
    w.field("packet_loss", region.packetLoss);
    w.field("rtt_ms_p50", region.rttP50Ms);
    w.field("rtt_ms_p95", region.rttP95Ms);
    w.endObject();
    w.endObject();
}

void writeHealthSample(JsonWriter &w, const HealthSample &s)
{
    w.beginObject();
    w.key("time");
    w.timestamp(s.time);
    w.field("step_s", s.stepSeconds);
    w.field("samples", s.samples);
    if (s.samples == 0) {
        // No data in this bucket: a gap, which clients must not join across.
        for (const char *key : { "workers_by_state", "builds", "failures", "rtt_ms", "packet_loss", "queue" }) {
            w.key(key);
            w.null();
        }
        w.endObject();
        return;
    }
    w.key("workers_by_state");
    writeWorkerCounts(w, s.workersByState);
    w.key("builds");
    w.beginObject();
    w.field("started", s.buildsStarted);
    w.field("succeeded", s.buildsSucceeded);
    w.field("failed", s.buildsFailed);
    w.endObject();
    w.key("failures");
    writeFailureCounts(w, s.failures);
    w.key("rtt_ms");
    w.beginObject();
    w.field("p50", s.rttP50Ms);
    w.field("p95", s.rttP95Ms);
    w.endObject();
    w.field("packet_loss", s.packetLoss);
    w.key("queue");
    w.beginObject();
    w.field("depth", s.queueDepth);
    w.field("wait_s_p50", s.waitP50Seconds);
    w.field("wait_s_p95", s.waitP95Seconds);
    w.endObject();
    w.endObject();
}

void writeOperation(JsonWriter &w, const Operation &op)
{
    w.beginObject();
    w.field("id", QStringView(op.id));
    w.field("type", wireName(op.type));
    w.field("state", wireName(op.state));
    w.field("region", QStringView(op.region));
    w.nullableString("worker", op.worker);
    w.key("params");
    if (op.type == OperationType::Provision) {
        w.beginObject();
        w.field("count", op.count);
        w.field("arch", wireName(op.arch));
        w.endObject();
    } else {
        w.null();
    }
    w.key("progress");
    w.beginObject();
    w.field("done", op.progressDone);
    w.field("total", op.progressTotal);
    w.endObject();
    w.field("reason", QStringView(op.reason));
    w.field("requested_by", QStringView(op.requestedBy));
    w.nullableString("idempotency_key", op.idempotencyKey);
    w.key("created_at");
    w.timestamp(op.createdAt);
    w.key("updated_at");
    w.timestamp(op.updatedAt);
    w.key("finished_at");
    w.timestamp(op.finishedAt);
    w.key("expires_at");
    w.timestamp(op.expiresAt);
    w.nullableString("message", op.message);
    w.endObject();
}

void writeAuditEntry(JsonWriter &w, const AuditEntry &e)
{
    w.beginObject();
    w.field("id", QStringView(e.id));
    w.key("time");
    w.timestamp(e.time);
    w.field("actor", QStringView(e.actor));
    w.field("role", wireName(e.role));
    w.field("action", QStringView(e.action));
    w.field("target", QStringView(e.target));
    w.nullableString("reason", e.reason);
    w.field("result", QStringView(e.result));
    w.nullableString("detail", e.detail);
    w.nullableString("operation", e.operation);
    w.endObject();
}

void writeIdentity(JsonWriter &w, const Identity &identity, qint64 serverTime)
{
    w.beginObject();
    w.field("id", QStringView(identity.id));
    w.field("name", QStringView(identity.name));
    w.field("role", wireName(identity.role));
    w.key("roles");
    w.beginArray();
    for (int r = 0; r <= static_cast<int>(identity.role); ++r)
        w.value(wireName(static_cast<Role>(r)));
    w.endArray();
    if (serverTime != 0) {
        w.key("server_time");
        w.timestamp(serverTime);
    }
    w.endObject();
}

} // namespace fleet
