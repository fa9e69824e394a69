#include "actioncontroller.h"

#include "fleetsession.h"
#include "fleetstore.h"
#include "localstore.h"
#include "terminalsafe.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>

namespace fleet {

Q_LOGGING_CATEGORY(lcActions, "fleet.actions")

namespace {

QString ago(qint64 ms)
{
    const qint64 minutes = ms / 60000;
    if (minutes < 1)
        return QStringLiteral("just now");
    if (minutes == 1)
        return QStringLiteral("a minute ago");
    if (minutes < 120)
        return QStringLiteral("%1 minutes ago").arg(minutes);
    return QStringLiteral("%1 hours ago").arg(minutes / 60);
}

// The journal's outcome column: "<phase>" or "<phase>: <message>"; an accepted action carries its operation id
// first ("following op-000012: ...") so a restarted console can follow it.
} // namespace

QString outcomeText(const ActionController::Tracked &t)
{
    QString s = describe(t.phase);
    if (!t.operationId.isEmpty())
        s += u' ' + t.operationId;
    if (!t.message.isEmpty())
        s += QStringLiteral(": ") + t.message;
    return s;
}

namespace {

// The journal's payload: the action's JSON plus the fleet it was meant for, so a restarted console connected to
// another fleet never sends it there.
QByteArray withFleet(const QByteArray &actionJson, const QString &fleet)
{
    QJsonObject o = QJsonDocument::fromJson(actionJson).object();
    o.insert(QStringLiteral("fleet"), fleet);
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QString fleetOf(const QByteArray &payload)
{
    return QJsonDocument::fromJson(payload).object().value(QStringLiteral("fleet")).toString();
}

// Built out of line: an ApiError made in place in preview() tripped GCC 12's -Wmaybe-uninitialized on its optional
// problem document in the TSan build (-O1; a false positive, but warnings are errors).
Q_NEVER_INLINE ApiResult<DryRunResult> previewRefused(ApiError::Kind kind, const QString &message)
{
    ApiError e;
    e.kind = kind;
    e.message = message;
    return ApiResult<DryRunResult>::failure(std::move(e));
}

} // namespace

QString describe(ActionController::Phase phase)
{
    switch (phase) {
    case ActionController::Phase::Sending:
        return QStringLiteral("pending");
    case ActionController::Phase::Uncertain:
        return QStringLiteral("unconfirmed");
    case ActionController::Phase::Following:
        return QStringLiteral("following");
    case ActionController::Phase::Done:
        return QStringLiteral("succeeded");
    case ActionController::Phase::Failed:
        return QStringLiteral("failed");
    case ActionController::Phase::Refused:
        return QStringLiteral("refused");
    case ActionController::Phase::Abandoned:
        return QStringLiteral("abandoned");
    case ActionController::Phase::Mismatched:
        return QStringLiteral("answered with another operation");
    }
    return {};
}

ActionController::ActionController(FleetSession *session)
    : QObject(session)
    , m_session(session)
{
    qRegisterMetaType<Tracked>();
    FleetStore *store = session->store();
    connect(store->operationTable(), &EntityTable::changed, this, &ActionController::follow);
    connect(store->operationTable(), &EntityTable::inserted, this, &ActionController::follow);
    connect(store->workerTable(), &EntityTable::changed, this, &ActionController::follow);
    connect(store->regionTable(), &EntityTable::changed, this, &ActionController::follow);
    connect(store, &FleetStore::snapshotApplied, this, &ActionController::follow);
    connect(session, &FleetSession::statusChanged, this, [this](const ConnectionStatus &s) {
        if (s.state == ConnectionState::Live) {
            m_retryBackoff.reset();
            retryUncertain();
        }
    });
    // An answer can be lost while the connection stays live (a proxy's page instead of JSON, a timeout of one
    // request): uncertain actions are looked up again on a backoff too, not only when the connection comes back.
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, [this] {
        if (m_session->isLive())
            retryUncertain();
    });
    // A new connection abandons the old client's requests in flight: their answers never come. Anything still
    // sending is uncertain until looked up on the new connection.
    connect(session, &FleetSession::connectionChanged, this, [this] {
        for (Tracked &t : m_tracked) {
            if (t.phase == Phase::Sending)
                update(t, Phase::Uncertain, QStringLiteral("the connection was replaced before the server answered"));
        }
    });
}

ActionController::Tracked *ActionController::get(int handle)
{
    for (Tracked &t : m_tracked) {
        if (t.handle == handle)
            return &t;
    }
    return nullptr;
}

const ActionController::Tracked *ActionController::find(int handle) const
{
    return const_cast<ActionController *>(this)->get(handle);
}

void ActionController::update(Tracked &t, Phase phase, const QString &message)
{
    const bool wasFinal = t.isFinal();
    t.phase = phase;
    t.message = message;
    LocalStore *local = m_session->localStore();
    if (t.journalId > 0 && local->isOpen())
        local->setJournalOutcome(t.journalId, outcomeText(t)); // a failure is reported by writeFailed
    qCInfo(lcActions).noquote() << terminalSafe(t.action.describe()) << "-" << terminalSafe(outcomeText(t));
    if (phase == Phase::Uncertain && !m_retry.isActive())
        m_retry.start(m_retryBackoff.nextDelayMs());
    else if (phase != Phase::Uncertain && phase != Phase::Sending) // an answer came: the next doubt starts at 2 s
        m_retryBackoff.reset();
    const Tracked copy = t; // listeners may start another action, which appends to m_tracked
    Q_EMIT trackedChanged(copy);
    if (copy.isFinal() && !wasFinal)
        Q_EMIT finished(copy);
}

void ActionController::preview(
    const FleetAction &action, QObject *context, std::function<void(ApiResult<DryRunResult>)> done)
{
    FleetConnection *connection = m_session->connection();
    const QString why = m_session->whyCannotAct(action.neededRole());
    if (!connection || !why.isEmpty()) {
        // Classified like the server's own answers: a role too low is a refusal, a connection that is not live
        // (yet, or any more) is worth trying again.
        const bool roleOnly = m_session->whyCannotAct(Role::Viewer).isEmpty();
        done(previewRefused(roleOnly ? ApiError::Kind::Forbidden : ApiError::Kind::Network,
            QStringLiteral("Cannot preview %1: %2.").arg(action.describe(), why)));
        return;
    }
    connection->client()->preview(action.request(), context, std::move(done));
}

int ActionController::perform(const FleetAction &action)
{
    Tracked t;
    t.handle = m_nextHandle++;
    t.action = action;
    t.startedMs = QDateTime::currentMSecsSinceEpoch();
    LocalStore *local = m_session->localStore();
    if (local->isOpen()) {
        LocalStore::JournalEntry entry;
        entry.atMs = t.startedMs;
        entry.kind = action.kindName();
        entry.actor = m_session->identity() ? m_session->identity()->name : QString();
        entry.target = action.target;
        entry.summary = action.describe() + QStringLiteral(": ") + action.reason;
        entry.payload = withFleet(action.toJson(), m_session->profile().url.toString());
        entry.outcome = describe(Phase::Sending);
        if (auto id = local->appendJournal(entry); id.ok()) {
            t.journalId = *id;
            m_resumedJournalIds.insert(t.journalId);
        }
    }
    m_tracked.append(t);
    const QString why = m_session->whyCannotAct(action.neededRole());
    const bool connectionOnly = m_session->connection() && !m_session->whyCannotAct(Role::Viewer).isEmpty()
        && (!m_session->identity() || int(m_session->identity()->role) >= int(action.neededRole()));
    if (connectionOnly) {
        // Confirmed while the connection is down or reconnecting (packet loss): kept, and sent with its key once
        // the connection is live again (the same path as an unanswered request).
        update(m_tracked.last(), Phase::Uncertain,
            QStringLiteral("not sent yet: %1; sent when the connection is live again").arg(why));
        return t.handle;
    }
    if (!why.isEmpty()) {
        update(m_tracked.last(), Phase::Refused, QStringLiteral("not sent: %1").arg(why));
        return t.handle;
    }
    update(m_tracked.last(), Phase::Sending, QString());
    if (t.journalId == 0) {
        send(t.handle);
        return t.handle;
    }
    // It leaves once its journal entry (with its key) is on disk, so a console killed meanwhile looks it up at the
    // next start. A disk that refuses the entry does not hold back a mitigation: it is sent, and says so.
    local->whenWritten(this, [this, handle = t.handle](const Status &written) {
        Tracked *sent = get(handle);
        if (!sent)
            return;
        if (!written)
            update(*sent, Phase::Sending,
                QStringLiteral("sent without its record on disk (%1); if the console stops before it is done, look "
                               "for it on the fleet")
                    .arg(written.error()));
        send(handle);
    });
    return t.handle;
}

void ActionController::send(int handle)
{
    Tracked *t = get(handle);
    FleetConnection *connection = m_session->connection();
    if (!t || !connection)
        return;
    // The client itself looks the key up before any retry of a POST whose outcome it does not know.
    connection->client()->perform(
        t->action.request(), this, [this, handle](ApiResult<Operation> r) { settle(handle, std::move(r)); });
}

void ActionController::lookUpThenSend(int handle, bool sendIfMissing)
{
    Tracked *t = get(handle);
    FleetConnection *connection = m_session->connection();
    if (!t || !connection)
        return;
    if (t->phase != Phase::Sending)
        update(*t, Phase::Sending, QStringLiteral("looking up whether the server has it"));
    connection->client()->operations(
        QStringLiteral("idempotency_key=") + QString::fromLatin1(QUrl::toPercentEncoding(t->action.idempotencyKey)),
        this, [this, handle, sendIfMissing](ApiResult<Page<Operation>> found) {
            Tracked *t = get(handle);
            if (!t)
                return;
            if (!found.ok()) {
                update(*t, Phase::Uncertain,
                    QStringLiteral("could not look it up: %1; trying again").arg(found.error().message));
                return;
            }
            // Only an operation made with this action's key is its answer: a server that ignored the filter and
            // listed others has not said whether it has this one.
            for (const Operation &op : found->items) {
                if (op.idempotencyKey == t->action.idempotencyKey) {
                    settle(handle, ApiResult<Operation>::success(op));
                    return;
                }
            }
            if (!found->items.empty()) {
                update(*t, Phase::Uncertain,
                    QStringLiteral(
                        "the look-up by key answered with %1 other operation(s) and not this one: the server "
                        "ignored the key, so whether it has this action is unknown; asked again later")
                        .arg(found->items.size()));
                return;
            }
            if (!sendIfMissing) {
                update(*t, Phase::Abandoned,
                    QStringLiteral("the console stopped before the server had it, more than %1 minutes ago; "
                                   "not sent again")
                        .arg(kResendWindowMs / 60000));
                return;
            }
            send(handle);
        });
}

void ActionController::settle(int handle, ApiResult<Operation> result)
{
    Tracked *t = get(handle);
    if (!t || t->isFinal())
        return;
    if (result.ok()) {
        if (const QString wrong = t->action.mismatch(*result); !wrong.isEmpty()) {
            update(*t, Phase::Mismatched, wrong);
            return;
        }
        t->operationId = result->id;
        update(*t, Phase::Following,
            QStringLiteral("accepted as %1 (%2)").arg(result->id, wireName(result->state).toString()));
        follow();
        return;
    }
    const ApiError &e = result.error();
    const bool definite = e.kind == ApiError::Kind::Unauthorized || e.kind == ApiError::Kind::Forbidden
        || e.kind == ApiError::Kind::Invalid // refused before sending: nothing happened
        || (e.kind == ApiError::Kind::Http && e.httpStatus >= 400 && e.httpStatus < 500 && e.httpStatus != 429
            && e.httpStatus != 408);
    if (definite) {
        QString message = e.problem && !e.problem->detail.isEmpty() ? e.problem->detail : e.message;
        if (e.kind == ApiError::Kind::Forbidden)
            message = QStringLiteral("the server refused it (403): this token may not %1. %2")
                          .arg(t->action.kindName(), message);
        if (e.problem && !e.problem->operation.isEmpty()
            && (t->action.kind == FleetAction::Kind::DrainRegion || t->action.kind == FleetAction::Kind::DrainWorker)) {
            t->operationId = e.problem->operation; // a conflict names the operation in the way
            // Draining what someone is already draining is not an error for the engineer: their drain is followed.
            alreadyBeingDone(t->action, t->operationId, this, [this, handle, message](const QString &already) {
                Tracked *t = get(handle);
                if (!t || t->isFinal())
                    return;
                if (already.isEmpty()) {
                    update(*t, Phase::Refused, message);
                    return;
                }
                update(*t, Phase::Following, already);
                follow();
            });
            return;
        }
        if (e.problem && !e.problem->operation.isEmpty())
            t->operationId = e.problem->operation;
        update(*t, Phase::Refused, message);
        return;
    }
    update(*t, Phase::Uncertain,
        QStringLiteral("no answer (%1); the server is asked again whether it has it").arg(e.message));
}

void ActionController::alreadyBeingDone(
    const FleetAction &action, const QString &operationId, QObject *context, std::function<void(QString)> done) const
{
    const FleetStore *store = m_session->store();
    if (const int row = store->operationRow(operationId); row >= 0) {
        done(alreadyBeingDone(action, store->operations()[std::size_t(row)]));
        return;
    }
    FleetConnection *connection = m_session->connection();
    if (!connection) {
        done({});
        return;
    }
    // The refusal can arrive before the event that announces the operation: ask for it.
    connection->client()->operation(operationId, context, [action, done = std::move(done)](ApiResult<Operation> op) {
        done(op.ok() ? alreadyBeingDone(action, *op) : QString());
    });
}

QString ActionController::alreadyBeingDone(const FleetAction &action, const Operation &op)
{
    const bool same = (action.kind == FleetAction::Kind::DrainRegion && op.type == OperationType::DrainRegion
                          && op.region == action.target)
        || (action.kind == FleetAction::Kind::DrainWorker && op.type == OperationType::DrainWorker
            && op.worker == action.target);
    if (!same || isTerminal(op.state))
        return {};
    return QStringLiteral("already being done by %1 since %2 UTC (%3): %4")
        .arg(op.requestedBy.isEmpty() ? QStringLiteral("someone") : op.requestedBy,
            QDateTime::fromMSecsSinceEpoch(op.createdAt, Qt::UTC).toString(QStringLiteral("HH:mm")), op.id, op.reason);
}

void ActionController::lookAgain(int handle)
{
    const Tracked *t = find(handle);
    if (t && t->phase == Phase::Uncertain)
        lookUpThenSend(handle, true);
}

void ActionController::giveUp(int handle)
{
    Tracked *t = get(handle);
    if (!t || t->phase != Phase::Uncertain)
        return;
    update(*t, Phase::Abandoned,
        QStringLiteral("given up by the engineer while unconfirmed: the fleet may or may not have it (key %1); check "
                       "the fleet's operations before acting again")
            .arg(t->action.idempotencyKey));
}

void ActionController::retryUncertain()
{
    for (const Tracked &t : std::as_const(m_tracked)) {
        if (t.phase == Phase::Uncertain)
            lookUpThenSend(t.handle, true);
    }
}

QString ActionController::reallyDone(const Tracked &t, const Operation &op) const
{
    const FleetStore *store = m_session->store();
    switch (t.action.kind) {
    case FleetAction::Kind::Provision: {
        int ready = 0;
        int notYet = 0;
        for (const Worker &w : store->workers()) {
            if (w.operation != op.id)
                continue;
            if (w.state == WorkerState::Idle || w.state == WorkerState::Busy)
                ++ready;
            else if (w.state == WorkerState::Provisioning)
                ++notYet;
        }
        if (notYet > 0 || ready == 0)
            return {};
        return QStringLiteral("%1 %2 workers in %3 are taking builds (%4)")
            .arg(ready)
            .arg(wireName(t.action.arch))
            .arg(op.region, op.id);
    }
    case FleetAction::Kind::DrainRegion: {
        const int row = store->regionRow(op.region);
        if (row < 0)
            return {};
        const Region &r = store->regions()[std::size_t(row)];
        const int running = r.workersByState[int(WorkerState::Busy)] + r.workersByState[int(WorkerState::Draining)];
        if (r.dispatchState == DispatchState::Active || running > 0)
            return {};
        return QStringLiteral("%1 takes no new builds and has none running (%2)").arg(op.region, op.id);
    }
    case FleetAction::Kind::ResumeRegion: {
        const int row = store->regionRow(op.region);
        if (row < 0 || store->regions()[std::size_t(row)].dispatchState != DispatchState::Active)
            return {};
        return QStringLiteral("%1 takes builds again (%2)").arg(op.region, op.id);
    }
    case FleetAction::Kind::DrainWorker: {
        const int row = store->workerRow(op.worker);
        if (row >= 0) {
            const WorkerState s = store->workers()[std::size_t(row)].state;
            if (s != WorkerState::Offline && s != WorkerState::Terminated)
                return {};
        }
        return QStringLiteral("worker %1 is out of rotation (%2)").arg(op.worker, op.id);
    }
    case FleetAction::Kind::Cancel:
        break;
    }
    return QStringLiteral("%1 %2").arg(op.id, wireName(op.state).toString());
}

void ActionController::follow()
{
    const FleetStore *store = m_session->store();
    for (int i = 0; i < m_tracked.size(); ++i) {
        Tracked &t = m_tracked[i];
        if (t.phase != Phase::Following || t.operationId.isEmpty())
            continue;
        const int row = store->operationRow(t.operationId);
        if (row < 0)
            continue;
        const Operation &op = store->operations()[std::size_t(row)];
        const OperationState before = std::exchange(t.lastState, op.state);
        if (op.state == OperationState::Unknown || (isTerminal(before) && !isTerminal(op.state))) {
            const QString doubt = op.state == OperationState::Unknown
                ? QStringLiteral("the server reports %1 in a state the contract does not name (\"%2\"): its outcome "
                                 "is unknown")
                      .arg(op.id, op.unknown.value(QStringLiteral("state")).left(40))
                : QStringLiteral("the server reported %1 %2, then %3 again: its outcome is unknown")
                      .arg(op.id, wireName(before).toString(), wireName(op.state).toString());
            if (t.doubt != doubt) {
                t.doubt = doubt;
                update(t, Phase::Following, doubt);
            }
            continue;
        }
        if (!t.doubt.isEmpty())
            continue; // once contradicted, no later word makes it "done"
        if (t.action.kind == FleetAction::Kind::Cancel && op.state == OperationState::Cancelled) {
            update(t, Phase::Done,
                QStringLiteral("%1 cancelled%2")
                    .arg(op.id, op.message.isEmpty() ? QString() : QStringLiteral(": ") + op.message));
            continue;
        }
        if (op.state == OperationState::Failed || op.state == OperationState::Cancelled) {
            update(t, Phase::Failed,
                QStringLiteral("%1 %2%3").arg(op.id, wireName(op.state).toString(),
                    op.message.isEmpty() ? QString() : QStringLiteral(": ") + op.message));
            continue;
        }
        if (op.state != OperationState::Succeeded && t.action.kind != FleetAction::Kind::DrainRegion)
            continue; // a drained region's operation may stay running while its builds finish: judged by the fleet
        const QString done = reallyDone(t, op);
        if (!done.isEmpty())
            update(t, Phase::Done, done);
    }
}

QString ActionController::overlapWarning(const FleetAction &action) const
{
    const FleetStore *store = m_session->store();
    QString region = action.region();
    if (action.kind == FleetAction::Kind::DrainWorker) {
        const int row = store->workerRow(action.target);
        if (row >= 0)
            region = store->workers()[std::size_t(row)].region;
    }
    if (region.isEmpty())
        return {};
    const qint64 now = store->fleetNowMs();
    QStringList lines;
    for (const Operation &op : store->operations()) {
        if (op.region != region)
            continue;
        const bool inFlight = !isTerminal(op.state);
        if (!inFlight && now - op.createdAt > 15 * 60 * 1000)
            continue;
        lines << QStringLiteral("%1 %2 %3 (%4, %5).")
                     .arg(op.requestedBy.isEmpty() ? QStringLiteral("someone") : op.requestedBy, pastTense(op),
                         ago(std::max<qint64>(0, now - op.createdAt)), op.id, wireName(op.state).toString());
    }
    return lines.join(u'\n');
}

QList<FleetAction> ActionController::inverseOf(int handle) const
{
    const Tracked *t = find(handle);
    if (!t || t->operationId.isEmpty())
        return {};
    const FleetStore *store = m_session->store();
    const int row = store->operationRow(t->operationId);
    Operation op;
    if (row >= 0)
        op = store->operations()[std::size_t(row)];
    op.id = t->operationId;
    QStringList workers;
    if (t->action.kind == FleetAction::Kind::Provision) {
        for (const Worker &w : store->workers()) {
            if (w.operation == op.id && (w.state == WorkerState::Idle || w.state == WorkerState::Busy))
                workers << w.id;
        }
    }
    return t->action.inverse(op, workers);
}

QList<ActionController::Expiring> ActionController::expiringSoon(qint64 withinMs) const
{
    const FleetStore *store = m_session->store();
    const qint64 now = store->fleetNowMs();
    QList<Expiring> out;
    for (const Operation &op : store->operations()) {
        if (op.expiresAt <= 0 || op.expiresAt < now || op.expiresAt - now > withinMs)
            continue;
        if (op.type == OperationType::Provision && op.state == OperationState::Cancelled)
            continue;
        const qint64 minutes = (op.expiresAt - now + 59999) / 60000;
        out.append({ op.id,
            op.type == OperationType::Provision
                ? QStringLiteral("The %1 %2 workers of %3 in %4 retire in %5 min.")
                      .arg(op.count)
                      .arg(wireName(op.arch))
                      .arg(op.id, op.region)
                      .arg(minutes)
                : QStringLiteral("%1 (%2) ends in %3 min.").arg(op.region, op.id).arg(minutes) });
    }
    return out;
}

void ActionController::resumeFromJournal()
{
    LocalStore *local = m_session->localStore();
    if (!local->isOpen())
        return;
    const auto journal = local->journal(500);
    if (!journal.ok())
        return;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (const LocalStore::JournalEntry &e : *journal) {
        if (m_resumedJournalIds.contains(e.id))
            continue;
        const bool pending
            = e.outcome.startsWith(describe(Phase::Sending)) || e.outcome.startsWith(describe(Phase::Uncertain));
        const bool following = e.outcome.startsWith(describe(Phase::Following) + u' ');
        if (!pending && !following)
            continue;
        if (fleetOf(e.payload) != m_session->profile().url.toString())
            continue; // another fleet's: picked up when the console connects to it
        auto action = FleetAction::fromJson(e.payload);
        if (!action.ok())
            continue;
        m_resumedJournalIds.insert(e.id);
        Tracked t;
        t.handle = m_nextHandle++;
        t.journalId = e.id;
        t.action = *action;
        t.startedMs = e.atMs;
        if (following) {
            t.phase = Phase::Following;
            t.operationId = e.outcome.section(u' ', 1, 1).remove(u':');
            m_tracked.append(t);
            update(m_tracked.last(), Phase::Following, QStringLiteral("followed again after a restart"));
            continue;
        }
        m_tracked.append(t);
        // Sent before the restart, or about to be: the server may have it. Look it up; send it again only if it
        // is recent (the engineer's decision still stands) and the server never had it.
        lookUpThenSend(t.handle, now - e.atMs <= kResendWindowMs);
    }
    follow();
}

QString pastTense(const Operation &op)
{
    switch (op.type) {
    case OperationType::Provision:
        return QStringLiteral("provisioned %1 %2 workers in %3").arg(op.count).arg(wireName(op.arch)).arg(op.region);
    case OperationType::DrainWorker:
        return QStringLiteral("%1 worker %2 in %3")
            .arg(isTerminal(op.state) ? QStringLiteral("drained") : QStringLiteral("started draining"), op.worker,
                op.region);
    case OperationType::DrainRegion:
        return QStringLiteral("%1 region %2")
            .arg(isTerminal(op.state) ? QStringLiteral("drained") : QStringLiteral("started draining"), op.region);
    case OperationType::ResumeRegion:
        return QStringLiteral("resumed region %1").arg(op.region);
    case OperationType::Unknown:
        break;
    }
    return QStringLiteral("started an operation in %1").arg(op.region);
}

} // namespace fleet
