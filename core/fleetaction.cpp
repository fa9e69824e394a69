#include "fleetaction.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QUuid>

#include <array>

namespace fleet {

namespace {

constexpr std::array<std::pair<FleetAction::Kind, const char *>, 5> kKindNames { {
    { FleetAction::Kind::Provision, "provision" },
    { FleetAction::Kind::DrainWorker, "drain_worker" },
    { FleetAction::Kind::DrainRegion, "drain_region" },
    { FleetAction::Kind::ResumeRegion, "resume_region" },
    { FleetAction::Kind::Cancel, "cancel" },
} };

FleetAction make(FleetAction::Kind kind, const QString &target, const QString &reason)
{
    FleetAction a;
    a.kind = kind;
    a.target = target;
    a.reason = reason;
    a.idempotencyKey = QUuid::createUuid().toString(QUuid::WithoutBraces);
    return a;
}

} // namespace

std::optional<FleetAction::Kind> actionKindFromString(QStringView text)
{
    for (const auto &[kind, name] : kKindNames) {
        if (text == QLatin1String(name))
            return kind;
    }
    return std::nullopt;
}

FleetAction FleetAction::provision(const QString &region, int count, Arch arch, const QString &reason, qint64 expiresAt)
{
    FleetAction a = make(Kind::Provision, region, reason);
    a.count = count;
    a.arch = arch;
    a.expiresAt = expiresAt;
    return a;
}

FleetAction FleetAction::drainWorker(const QString &worker, const QString &reason)
{
    return make(Kind::DrainWorker, worker, reason);
}

FleetAction FleetAction::drainRegion(const QString &region, const QString &reason, qint64 expiresAt)
{
    FleetAction a = make(Kind::DrainRegion, region, reason);
    a.expiresAt = expiresAt;
    return a;
}

FleetAction FleetAction::resumeRegion(const QString &region, const QString &reason)
{
    return make(Kind::ResumeRegion, region, reason);
}

FleetAction FleetAction::cancel(const QString &operation, const QString &reason)
{
    return make(Kind::Cancel, operation, reason);
}

QString FleetAction::kindName() const
{
    for (const auto &[k, name] : kKindNames) {
        if (k == kind)
            return QLatin1String(name);
    }
    return {};
}

QString FleetAction::describe() const
{
    switch (kind) {
    case Kind::Provision:
        return QStringLiteral("provision %1 %2 worker%3 in %4")
            .arg(QString::number(count), wireName(arch).toString(), count == 1 ? QString() : QStringLiteral("s"),
                target);
    case Kind::DrainWorker:
        return QStringLiteral("drain worker %1").arg(target);
    case Kind::DrainRegion:
        return QStringLiteral("drain region %1").arg(target);
    case Kind::ResumeRegion:
        return QStringLiteral("resume region %1").arg(target);
    case Kind::Cancel:
        return QStringLiteral("cancel operation %1").arg(target);
    }
    return {};
}

QString FleetAction::mismatch(const Operation &answer) const
{
    QStringList wrong;
    const auto differs = [&wrong](bool bad, const QString &what) {
        if (bad)
            wrong << what;
    };
    switch (kind) {
    case Kind::Provision:
        differs(answer.type != OperationType::Provision, QStringLiteral("type"));
        differs(answer.region != target, QStringLiteral("region"));
        differs(answer.count != count, QStringLiteral("count"));
        differs(answer.arch != arch, QStringLiteral("architecture"));
        break;
    case Kind::DrainRegion:
        differs(answer.type != OperationType::DrainRegion, QStringLiteral("type"));
        differs(answer.region != target, QStringLiteral("region"));
        break;
    case Kind::ResumeRegion:
        differs(answer.type != OperationType::ResumeRegion, QStringLiteral("type"));
        differs(answer.region != target, QStringLiteral("region"));
        break;
    case Kind::DrainWorker:
        differs(answer.type != OperationType::DrainWorker, QStringLiteral("type"));
        differs(answer.worker != target, QStringLiteral("worker"));
        break;
    case Kind::Cancel:
        differs(answer.id != target, QStringLiteral("operation"));
        break;
    }
    if (kind != Kind::Cancel) // a cancel's answer is the operation it cancels, made with that operation's key
        differs(answer.idempotencyKey != idempotencyKey, QStringLiteral("idempotency key"));
    if (wrong.isEmpty())
        return {};
    QString said;
    switch (answer.type) {
    case OperationType::Provision:
        said = QStringLiteral("provision %1 %2 workers in %3")
                   .arg(answer.count)
                   .arg(wireName(answer.arch).toString(), answer.region);
        break;
    case OperationType::DrainWorker:
        said = QStringLiteral("drain worker %1").arg(answer.worker);
        break;
    case OperationType::DrainRegion:
        said = QStringLiteral("drain region %1").arg(answer.region);
        break;
    case OperationType::ResumeRegion:
        said = QStringLiteral("resume region %1").arg(answer.region);
        break;
    case OperationType::Unknown:
        said = QStringLiteral("an operation of a type the contract does not name, in %1").arg(answer.region);
        break;
    }
    const auto key = [](const QString &k) { return k.isEmpty() ? QStringLiteral("none") : k.left(64); };
    return QStringLiteral("the server answered with another operation (%1 differ): asked: %2 (key %3); answered: %4: "
                          "%5 (key %6). Not followed: check the fleet before acting again")
        .arg(wrong.join(QStringLiteral(", ")), describe(), key(idempotencyKey), answer.id.left(64), said,
            key(answer.idempotencyKey));
}

QString FleetAction::region() const
{
    return kind == Kind::Provision || isRegionWide() ? target : QString();
}

FleetClient::Action FleetAction::request() const
{
    FleetClient::Action r;
    switch (kind) {
    case Kind::Provision:
        r = FleetClient::provision(target, count, arch, reason, expiresAt);
        break;
    case Kind::DrainWorker:
        r = FleetClient::drainWorker(target, reason);
        break;
    case Kind::DrainRegion:
        r = FleetClient::drainRegion(target, reason, expiresAt);
        break;
    case Kind::ResumeRegion:
        r = FleetClient::resumeRegion(target, reason);
        break;
    case Kind::Cancel:
        r = FleetClient::cancel(target, reason);
        break;
    }
    r.idempotencyKey = idempotencyKey;
    return r;
}

QByteArray FleetAction::toJson() const
{
    QJsonObject o {
        { QStringLiteral("kind"), kindName() },
        { QStringLiteral("target"), target },
        { QStringLiteral("reason"), reason },
        { QStringLiteral("idempotency_key"), idempotencyKey },
    };
    if (kind == Kind::Provision) {
        o.insert(QStringLiteral("count"), count);
        o.insert(QStringLiteral("arch"), wireName(arch).toString());
    }
    if (expiresAt > 0)
        o.insert(QStringLiteral("expires_at_ms"), QString::number(expiresAt));
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

Result<FleetAction> FleetAction::fromJson(const QByteArray &json)
{
    QJsonParseError error {};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (!doc.isObject())
        return Result<FleetAction>::failure(
            QStringLiteral("a stored action is not a JSON object: %1").arg(error.errorString()));
    const QJsonObject o = doc.object();
    const auto kind = actionKindFromString(o.value(QStringLiteral("kind")).toString());
    if (!kind)
        return Result<FleetAction>::failure(QStringLiteral("a stored action has an unknown kind \"%1\"")
                                                .arg(o.value(QStringLiteral("kind")).toString()));
    FleetAction a;
    a.kind = *kind;
    a.target = o.value(QStringLiteral("target")).toString();
    a.reason = o.value(QStringLiteral("reason")).toString();
    a.idempotencyKey = o.value(QStringLiteral("idempotency_key")).toString();
    a.expiresAt = o.value(QStringLiteral("expires_at_ms")).toString().toLongLong();
    if (a.kind == Kind::Provision) {
        a.count = o.value(QStringLiteral("count")).toInt();
        const auto arch = archFromString(o.value(QStringLiteral("arch")).toString());
        if (!arch || a.count < 1)
            return Result<FleetAction>::failure(QStringLiteral("a stored provision action has no valid count or arch"));
        a.arch = *arch;
    }
    if (a.target.isEmpty() || a.idempotencyKey.isEmpty())
        return Result<FleetAction>::failure(QStringLiteral("a stored action has no target or no idempotency key"));
    return Result<FleetAction>::success(std::move(a));
}

QList<FleetAction> FleetAction::inverse(const Operation &operation, const QStringList &provisionedWorkers) const
{
    const QString why = QStringLiteral("undo %1 (%2)").arg(operation.id.isEmpty() ? describe() : operation.id, reason);
    switch (kind) {
    case Kind::DrainRegion:
        return { resumeRegion(target, why) };
    case Kind::ResumeRegion:
        return { drainRegion(target, why) };
    case Kind::Provision: {
        QList<FleetAction> drains;
        for (const QString &worker : provisionedWorkers)
            drains.append(drainWorker(worker, why));
        return drains;
    }
    case Kind::DrainWorker:
    case Kind::Cancel:
        break;
    }
    return {};
}

} // namespace fleet
