#pragma once

#include "backoff.h"
#include "fleetaction.h"
#include "fleetclient.h"
#include "fleettypes.h"

#include <QList>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <functional>

namespace fleet {

class FleetSession;

// Runs the engineer's actions on the session's fleet: preview (the server's dry run) -> perform -> follow, until the
// operation is really done (provisioned workers idle or busy, a drained region with no running build). Every action
// is recorded in the local store's journal before it is sent and its outcome after, so the Activity view and a
// restarted console know it. One idempotency key per action, kept until the outcome is known: a timeout, a 5xx, a
// cut connection or a restart leads to a lookup of the key (GET /v1/operations?idempotency_key=) and, only if the
// server never had it, the same request again; never a second operation. Qt Core; owned by the session.
class ActionController : public QObject
{
    Q_OBJECT

public:
    enum class Phase {
        Sending, // sent or about to be; no answer yet
        Uncertain, // no answer could be had (network, timeout, 5xx, unreadable): looked up again on a backoff (2 s
                   // doubling to 60 s) and whenever the connection is live again
        Following, // accepted as an operation; waiting until it is really done
        Done,
        Failed, // the operation failed or was cancelled
        Refused, // the server said no (403, 409, 422, ...): nothing happened
        Abandoned, // never confirmed and too old to send again after a restart
        Mismatched, // the server answered with an operation that is not this action's: shown with both, not followed
    };
    Q_ENUM(Phase)

    struct Tracked
    {
        int handle = 0;
        qint64 journalId = 0; // 0 when the local store could not record it
        FleetAction action;
        Phase phase = Phase::Sending;
        QString operationId;
        QString message; // the latest word on it, for a person
        qint64 startedMs = 0; // wall clock
        // Set when the server's reports of the operation contradict the contract or themselves (a state it does not
        // name, succeeded and then running again): its outcome is unknown whatever it says next.
        QString doubt;
        OperationState lastState = OperationState::Pending; // as last reported while followed
        bool isFinal() const
        {
            return phase == Phase::Done || phase == Phase::Failed || phase == Phase::Refused
                || phase == Phase::Abandoned || phase == Phase::Mismatched;
        }
    };

    // A pending action older than this at start-up is not sent again (the situation has changed); it is looked up.
    static constexpr qint64 kResendWindowMs = 10 * 60 * 1000;

    explicit ActionController(FleetSession *session);

    // The server's dry run of `action`. `done` runs on `context`'s thread, not at all if it is destroyed.
    void preview(const FleetAction &action, QObject *context, std::function<void(ApiResult<DryRunResult>)> done);
    // Records and sends `action`; returns its handle (see tracked()). Refused at once, with the reason in the
    // tracked message, when the token's role is too low or there is no connection; while the connection is not
    // live it waits (Uncertain) and is sent, after a lookup of its key, when the connection is live again.
    int perform(const FleetAction &action);

    const QList<Tracked> &tracked() const { return m_tracked; }
    const Tracked *find(int handle) const;
    // Another operation in flight, or started in the last 15 minutes, on the same region, in words
    // ("demo-operator provisioned 4 aarch64 workers in eu-west 3 minutes ago (op-000003, running)"); empty if none.
    QString overlapWarning(const FleetAction &action) const;
    // When the server refused `action` because `operationId` already does it (a drain of a region or worker that
    // is draining), `done` gets "already being done by ana since 09:20 UTC (op-000003): <their reason>"; an empty
    // text otherwise. The operation is taken from the store, or fetched when its event has not arrived yet (the
    // refusal can come before it). `done` runs on `context`'s thread, not at all if it is destroyed.
    void alreadyBeingDone(const FleetAction &action, const QString &operationId, QObject *context,
        std::function<void(QString)> done) const;
    static QString alreadyBeingDone(const FleetAction &action, const Operation &op);
    // What undoes a finished action, as new actions (empty when nothing does).
    QList<FleetAction> inverseOf(int handle) const;
    // Operations that retire workers or resume a region within `withinMs` of fleet time.
    struct Expiring
    {
        QString operation;
        QString text; // "The 4 aarch64 workers of op-000003 in eu-west retire in 12 min."
    };
    QList<Expiring> expiringSoon(qint64 withinMs) const;

    // Picks up what a previous run of the console left unfinished in the journal. Called by the session when the
    // connection is live and the identity known; safe to call again.
    void resumeFromJournal();

    // The engineer's answer to an unconfirmed action: ask the server again now (lookAgain), or stop asking and
    // record that it is not known to have happened (giveUp: Abandoned, with the key to check the fleet by).
    void lookAgain(int handle);
    void giveUp(int handle);

Q_SIGNALS:
    void trackedChanged(const fleet::ActionController::Tracked &tracked);
    void finished(const fleet::ActionController::Tracked &tracked); // Done, Failed, Refused, Abandoned or Mismatched

private:
    Tracked *get(int handle);
    void send(int handle);
    void lookUpThenSend(int handle, bool sendIfMissing);
    void settle(int handle, ApiResult<Operation> result);
    void follow();
    void update(Tracked &t, Phase phase, const QString &message);
    void retryUncertain();
    QString reallyDone(const Tracked &t, const Operation &op) const;

    FleetSession *m_session;
    QTimer m_retry; // the next lookup of uncertain actions while the connection stays live
    Backoff m_retryBackoff { 2000, 60000 };
    QList<Tracked> m_tracked;
    QSet<qint64> m_resumedJournalIds;
    int m_nextHandle = 1;
};

QString describe(ActionController::Phase phase);
// What the local audit log says of a tracked action: "succeeded op-000003: 4 amd64 workers ... are taking builds".
QString outcomeText(const ActionController::Tracked &t);
// What an operation did, in words: "provisioned 4 aarch64 workers in eu-west", "started draining region us-west".
QString pastTense(const Operation &op);

} // namespace fleet

Q_DECLARE_METATYPE(fleet::ActionController::Tracked)
