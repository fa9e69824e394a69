#pragma once

#include "fleetclient.h"
#include "fleettypes.h"
#include "result.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace fleet {

// One thing an engineer asks the fleet to do, as a value: a dialog fills it in, the local audit log stores it
// (toJson), fleetctl builds it from its arguments, and it makes its own request (path, body, idempotency key) when
// sent. The key is made once, when the action is created, and travels with it through retries and restarts: the
// same action sent twice is one operation on the server.
struct FleetAction
{
    enum class Kind { Provision, DrainWorker, DrainRegion, ResumeRegion, Cancel };

    Kind kind = Kind::Provision;
    QString target; // region id, worker id or operation id
    int count = 0; // provision
    Arch arch = Arch::Amd64; // provision
    QString reason;
    qint64 expiresAt = 0; // provision (the workers retire) or drain region (it resumes); ms since the epoch, 0: never
    QString idempotencyKey;

    static FleetAction provision(
        const QString &region, int count, Arch arch, const QString &reason, qint64 expiresAt = 0);
    static FleetAction drainWorker(const QString &worker, const QString &reason);
    static FleetAction drainRegion(const QString &region, const QString &reason, qint64 expiresAt = 0);
    static FleetAction resumeRegion(const QString &region, const QString &reason);
    static FleetAction cancel(const QString &operation, const QString &reason);

    // The wire name of the kind, as in the server's audit log: "provision", "drain_worker", "drain_region",
    // "resume_region", "cancel".
    QString kindName() const;
    // "provision 4 aarch64 workers in eu-west", "drain region eu-central".
    QString describe() const;
    // The role the server requires.
    Role neededRole() const { return Role::Operator; }
    // Region-wide: a drain or resume of a whole region.
    bool isRegionWide() const { return kind == Kind::DrainRegion || kind == Kind::ResumeRegion; }
    // The region the action touches ("" for a worker or operation whose region the caller must look up).
    QString region() const;

    // What is wrong with `answer` as the server's answer to this action, in words that show both what was asked and
    // what came back ("asked: provision 4 aarch64 workers in eu-west (key 1f2e...); the server answered with
    // op-000007: drain region us-east (key none)"); empty when it is this action's operation: the same type,
    // region or worker, count, architecture and idempotency key (a cancel: the operation it names).
    QString mismatch(const Operation &answer) const;

    // The request, with this action's key.
    FleetClient::Action request() const;

    QByteArray toJson() const;
    static Result<FleetAction> fromJson(const QByteArray &json);

    // What undoes `operation` (made by this action), as a new action with its own key: a drained region is resumed,
    // a resumed region drained, provisioned workers are drained (one action per worker, ids from the fleet).
    // Empty when there is no inverse (a cancel).
    QList<FleetAction> inverse(const Operation &operation, const QStringList &provisionedWorkers = {}) const;
};

std::optional<FleetAction::Kind> actionKindFromString(QStringView text);

} // namespace fleet
