#pragma once

#include "fleettypes.h"
#include "result.h"

#include <QByteArray>

#include <memory>

namespace fleet {

// Strict decoders for the Fleet API v1 wire format, built on simdjson. A missing or mistyped field fails with a
// sentence naming the endpoint and the field ("GET /v1/fleet/snapshot: workers[17].state: expected a string, got
// a number"). Unknown extra fields and unknown enum values are kept in the struct's `unknown` map, never dropped.
// One decoder per thread: it reuses its parser's buffers and interns repeated strings (region ids, versions).
class WireDecoder
{
public:
    WireDecoder();
    ~WireDecoder();
    WireDecoder(const WireDecoder &) = delete;
    WireDecoder &operator=(const WireDecoder &) = delete;

    // `endpoint` is how errors name the source, e.g. "GET /v1/fleet/snapshot".
    Result<Snapshot> snapshot(const QByteArray &json, const QString &endpoint);
    Result<Identity> identity(const QByteArray &json, const QString &endpoint);
    Result<Region> region(const QByteArray &json, const QString &endpoint);
    Result<Page<Region>> regions(const QByteArray &json, const QString &endpoint);
    Result<Worker> worker(const QByteArray &json, const QString &endpoint);
    Result<Page<Worker>> workers(const QByteArray &json, const QString &endpoint);
    Result<HealthHistory> health(const QByteArray &json, const QString &endpoint);
    Result<Operation> operation(const QByteArray &json, const QString &endpoint);
    Result<Page<Operation>> operations(const QByteArray &json, const QString &endpoint);
    Result<Page<AuditEntry>> audit(const QByteArray &json, const QString &endpoint);
    Result<DryRunResult> dryRun(const QByteArray &json, const QString &endpoint);
    Result<Problem> problem(const QByteArray &json, const QString &endpoint);
    // The `data` of one SSE event of type `type`. Unknown types decode to a FleetEvent with an empty payload.
    Result<FleetEvent> event(qint64 id, const QString &type, const QByteArray &data);

    // Worker lists (snapshots, worker pages) in the documented shape are read by a fast path; anything else, from
    // the first worker that differs, by the general decoder, which defines the result. For tests and benchmarks:
    // turn the fast path off, and how many workers the last snapshot or page decoded on it.
    void setWorkerFastPath(bool enabled);
    qsizetype lastFastPathWorkers() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace fleet
