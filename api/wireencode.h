#pragma once

#include "fleettypes.h"

namespace fleet {

class JsonWriter;

// Encoders for the Fleet API v1 wire format; the field names are the contract in resources/api/fleet-api.yaml.
// Each writes one JSON object as the next value of `w`.
void writeWorker(JsonWriter &w, const Worker &worker);
void writeRegion(JsonWriter &w, const Region &region);
void writeHealthSample(JsonWriter &w, const HealthSample &sample);
void writeOperation(JsonWriter &w, const Operation &operation);
void writeAuditEntry(JsonWriter &w, const AuditEntry &entry);
// `serverTime`, when not 0, is written as "server_time" so clients can tell their clock from the server's.
void writeIdentity(JsonWriter &w, const Identity &identity, qint64 serverTime = 0);
void writeWorkerCounts(JsonWriter &w, const WorkerCounts &counts);
void writeFailureCounts(JsonWriter &w, const FailureCounts &counts);

} // namespace fleet
