#include "mitigationsilences.h"

#include "actioncontroller.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "localstore.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUuid>

namespace fleet {

namespace {

constexpr MitigationSilences::State kStates[] = { MitigationSilences::State::Waiting,
    MitigationSilences::State::Creating, MitigationSilences::State::Active, MitigationSilences::State::Unknown,
    MitigationSilences::State::NotCreated, MitigationSilences::State::Expired, MitigationSilences::State::Ended };

QString clock(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("HH:mm 'UTC'"));
}

QString left(qint64 ms)
{
    const qint64 minutes = std::max<qint64>(0, ms) / 60000;
    return QStringLiteral("%1h %2m left").arg(minutes / 60).arg(minutes % 60, 2, 10, QLatin1Char('0'));
}

// The journal's outcome: "<state>[ <id>][ for <operation>][: <message>]", read back by a restarted console.
QString outcomeOf(const MitigationSilences::Silence &s)
{
    QString out = MitigationSilences::describe(s.state);
    if (!s.id.isEmpty())
        out += u' ' + s.id;
    if (!s.operation.isEmpty())
        out += QStringLiteral(" for ") + s.operation;
    if (!s.message.isEmpty())
        out += QStringLiteral(": ") + s.message;
    return out;
}

bool readOutcome(const QString &outcome, MitigationSilences::Silence *s)
{
    const QString head = outcome.section(QStringLiteral(": "), 0, 0);
    for (const MitigationSilences::State state : kStates) {
        const QString word = MitigationSilences::describe(state);
        if (head != word && !head.startsWith(word + u' '))
            continue;
        s->state = state;
        QStringList rest = head.mid(word.size()).split(u' ', Qt::SkipEmptyParts);
        if (rest.size() >= 2 && rest.at(rest.size() - 2) == QLatin1String("for")) {
            s->operation = rest.takeLast();
            rest.removeLast();
        }
        if (rest.size() == 1 && idProblem(rest.first(), QStringLiteral("silence")).isEmpty())
            s->id = rest.first();
        return true;
    }
    return false;
}

} // namespace

MitigationSilences::MitigationSilences(FleetSession *session, const AlertmanagerConfig &config, QObject *parent)
    : QObject(parent)
    , m_session(session)
    , m_config(config)
    , m_client(new AlertmanagerClient(config, this))
{
    ActionController *actions = session->actions();
    connect(actions, &ActionController::trackedChanged, this, &MitigationSilences::onActionChanged);
    connect(actions, &ActionController::finished, this, [this](const ActionController::Tracked &t) {
        if (t.action.kind == FleetAction::Kind::ResumeRegion && t.phase == ActionController::Phase::Done)
            expireRegion(t.action.target, QStringLiteral("region resumed (%1)").arg(t.operationId));
    });
    m_refresh.setInterval(kRefreshSeconds * 1000);
    connect(&m_refresh, &QTimer::timeout, this, &MitigationSilences::refresh);
    m_refresh.start();
}

QList<AmMatcher> MitigationSilences::matchersFor(const QString &region)
{
    return { AmMatcher { QStringLiteral("region"), region, false, true } };
}

bool MitigationSilences::canCarrySilence(FleetAction::Kind kind)
{
    return kind == FleetAction::Kind::DrainRegion || kind == FleetAction::Kind::Provision;
}

qint64 MitigationSilences::endFor(const FleetAction &action, qint64 fleetNowMs, qint64 wallNowMs)
{
    if (action.expiresAt <= 0)
        return wallNowMs + kDefaultLengthMs;
    return wallNowMs + std::max<qint64>(0, action.expiresAt - fleetNowMs) + kMarginMs;
}

QString MitigationSilences::endText(const FleetAction &action, qint64 fleetNowMs, qint64 wallNowMs)
{
    const QString until = clock(endFor(action, fleetNowMs, wallNowMs));
    if (action.expiresAt <= 0)
        return QStringLiteral("until %1 (%2 h: the action does not expire), or until the region is resumed")
            .arg(until)
            .arg(kDefaultLengthMs / 3600000);
    return QStringLiteral("until %1 (the %2's expiry + %3 min), or until the region is resumed")
        .arg(until, action.kind == FleetAction::Kind::Provision ? QStringLiteral("workers'") : QStringLiteral("drain"))
        .arg(kMarginMs / 60000);
}

QString MitigationSilences::describe(State state)
{
    switch (state) {
    case State::Waiting:
        return QStringLiteral("waiting");
    case State::Creating:
        return QStringLiteral("creating");
    case State::Active:
        return QStringLiteral("active");
    case State::Unknown:
        return QStringLiteral("unknown");
    case State::NotCreated:
        return QStringLiteral("not created");
    case State::Expired:
        return QStringLiteral("expired");
    case State::Ended:
        return QStringLiteral("ended");
    }
    return QStringLiteral("unknown");
}

QString MitigationSilences::describe(const Silence &s, qint64 nowMs)
{
    QString when;
    if (s.state == State::Active)
        when = QStringLiteral(" until %1 (%2)").arg(clock(s.endsAtMs), left(s.endsAtMs - nowMs));
    QString what = QStringLiteral("region=%1").arg(s.region);
    if (!s.operation.isEmpty())
        what += QStringLiteral(", ") + s.operation;
    if (!s.action.isEmpty())
        what += u' ' + s.action;
    if (!s.reason.isEmpty())
        what += QStringLiteral(": ") + s.reason;
    QString out = describe(s.state) + when + QStringLiteral(": ") + what;
    if (!s.message.isEmpty() && s.state != State::Active)
        out += QStringLiteral(" (") + s.message + u')';
    return out;
}

MitigationSilences::Silence *MitigationSilences::byKey(const QString &key)
{
    for (Silence &s : m_silences)
        if (s.key == key)
            return &s;
    return nullptr;
}

bool MitigationSilences::silenceWith(int handle, const FleetAction &action, QString *why, const QString &regionAsked)
{
    auto refuse = [why](const QString &text) {
        if (why)
            *why = text;
        return false;
    };
    if (!canCarrySilence(action.kind))
        return refuse(QStringLiteral("only a drain of a region or a provision carries a silence"));
    const QString region = regionAsked.isEmpty() ? action.region() : regionAsked;
    if (const QString problem = idProblem(region, QStringLiteral("region")); !problem.isEmpty())
        return refuse(problem);
    Silence s;
    s.key = QUuid::createUuid().toString(QUuid::WithoutBraces);
    s.region = region;
    s.action = action.describe();
    s.reason = action.reason;
    s.createdBy = m_session->identity() ? m_session->identity()->name : QStringLiteral("fleet-console");
    s.endsAtMs = endFor(action, m_session->store()->fleetNowMs(), QDateTime::currentMSecsSinceEpoch());
    s.actionHandle = handle;
    s.message = QStringLiteral("created once the fleet accepts the %1").arg(action.kindName());
    LocalStore *local = m_session->localStore();
    if (local->isOpen()) {
        LocalStore::JournalEntry entry;
        entry.atMs = QDateTime::currentMSecsSinceEpoch();
        entry.kind = QStringLiteral("silence");
        entry.actor = s.createdBy;
        entry.target = region;
        entry.summary = QStringLiteral("silence the alerts of region %1 with: %2").arg(region, s.action);
        entry.payload = QJsonDocument(
            QJsonObject { { QStringLiteral("key"), s.key }, { QStringLiteral("region"), region },
                { QStringLiteral("action"), s.action }, { QStringLiteral("reason"), s.reason },
                { QStringLiteral("created_by"), s.createdBy }, { QStringLiteral("ends_at"), s.endsAtMs },
                { QStringLiteral("alertmanager"), alertmanagerUrl() } })
                            .toJson(QJsonDocument::Compact);
        entry.outcome = outcomeOf(s);
        if (auto id = local->appendJournal(entry); id.ok())
            s.journalId = *id;
    }
    m_silences.append(s);
    Q_EMIT changed();
    // The action may already be accepted (or refused) by the time the engineer's choice arrives.
    if (const ActionController::Tracked *t = m_session->actions()->find(handle))
        onActionChanged(*t);
    return true;
}

void MitigationSilences::onActionChanged(const ActionController::Tracked &t)
{
    // Accepted: the fleet answered with this action's operation (a mismatched answer is final, never accepted).
    const bool accepted = !t.operationId.isEmpty()
        && (t.phase == ActionController::Phase::Following || t.phase == ActionController::Phase::Done);
    for (Silence &s : m_silences) {
        if (s.actionHandle != t.handle || s.state != State::Waiting)
            continue;
        if (accepted) {
            s.operation = t.operationId;
            s.actionHandle = 0;
            create(s);
        } else if (t.isFinal()) {
            s.actionHandle = 0;
            setState(s, State::NotCreated,
                QStringLiteral("the %1 did not go ahead (%2): %3").arg(s.action, fleet::describe(t.phase), t.message));
        }
    }
}

void MitigationSilences::create(Silence &s)
{
    setState(s, State::Creating, QStringLiteral("sent to %1").arg(alertmanagerUrl()));
    QString comment = s.operation.isEmpty() ? s.action : QStringLiteral("%1 %2").arg(s.operation, s.action);
    if (!s.reason.isEmpty())
        comment += QStringLiteral(": ") + s.reason;
    const QString key = s.key;
    m_client->createSilence(
        matchersFor(s.region), s.endsAtMs, s.createdBy, comment, key, this, [this, key](ApiResult<QString> id) {
            Silence *s = byKey(key);
            if (!s)
                return;
            if (id.ok()) {
                s->id = *id;
                setState(*s, State::Active, QString());
            } else if (!id.error().outcomeUnknown()) {
                setState(*s, State::NotCreated, id.error().message);
            } else {
                setState(*s, State::Unknown,
                    QStringLiteral("%1; looked for by %2").arg(id.error().message, AlertmanagerClient::keyMark(key)));
            }
        });
}

void MitigationSilences::expireRegion(const QString &region, const QString &why)
{
    QStringList keys;
    for (const Silence &s : std::as_const(m_silences))
        if (s.region == region && s.isOpen())
            keys << s.key;
    for (const QString &key : std::as_const(keys))
        expire(key, why);
}

void MitigationSilences::expire(const QString &key, const QString &why)
{
    Silence *s = byKey(key);
    if (!s || !s->isOpen())
        return;
    if (s->state == State::Waiting) {
        s->actionHandle = 0;
        setState(*s, State::NotCreated, why);
        return;
    }
    if (s->id.isEmpty()) {
        // Unknown or still being created: its id is looked for on the next refresh, then it is expired.
        s->expireWhenFound = why;
        setState(*s, s->state, QStringLiteral("to be expired once found (%1)").arg(why));
        return;
    }
    m_client->expireSilence(s->id, this, [this, key, why](ApiResult<bool> r) {
        Silence *s = byKey(key);
        if (!s)
            return;
        if (r.ok()) {
            setState(*s, State::Expired, why);
            return;
        }
        // Still active as far as anyone can prove: the next refresh finds it and tries again.
        s->expireWhenFound = why;
        setState(*s, s->state, QStringLiteral("could not expire it (%1): %2").arg(why, r.error().message));
    });
}

void MitigationSilences::refresh()
{
    bool open = false;
    for (const Silence &s : std::as_const(m_silences))
        open = open || (s.isOpen() && s.state != State::Waiting);
    if (!open || m_refreshing)
        return;
    m_refreshing = true;
    m_client->silences(this, [this](ApiResult<QList<AmSilence>> all) {
        m_refreshing = false;
        if (!all.ok())
            return; // the next refresh asks again; the states stay as they were
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        for (Silence &s : m_silences) {
            if (!s.isOpen() || s.state == State::Waiting)
                continue;
            const QString mark = AlertmanagerClient::keyMark(s.key);
            // The silence carrying the key: one still in force before an expired one (an edit in Alertmanager
            // expires the old id and makes a new one with the same comment, both updated at that moment), else the
            // latest updated.
            const AmSilence *found = nullptr;
            for (const AmSilence &a : *all) {
                if (!a.comment.contains(mark))
                    continue;
                const bool inForce = a.state != QLatin1String("expired");
                const bool foundInForce = found && found->state != QLatin1String("expired");
                if (!found || (inForce && !foundInForce) || (inForce == foundInForce && a.updatedAt > found->updatedAt))
                    found = &a;
            }
            if (!found) {
                if (s.endsAtMs <= now)
                    setState(s, State::Ended, QStringLiteral("not in Alertmanager, and past its end"));
                else if (s.state == State::Active)
                    setState(s, State::Expired, QStringLiteral("no longer in Alertmanager"));
                // Creating or unknown and not found: not proved either way; looked for again.
                continue;
            }
            const bool renamed = !s.id.isEmpty() && found->id != s.id;
            const QString oldId = s.id;
            const bool pastItsEnd = s.endsAtMs <= now;
            s.id = found->id;
            if (found->state == QLatin1String("expired")) {
                setState(s, pastItsEnd ? State::Ended : State::Expired,
                    pastItsEnd ? QStringLiteral("ran to its end") : QStringLiteral("expired in Alertmanager"));
                continue;
            }
            s.endsAtMs = found->endsAt;
            if (!s.expireWhenFound.isEmpty()) {
                const QString why = std::exchange(s.expireWhenFound, QString());
                setState(s, State::Active, QString());
                expire(s.key, why);
            } else if (renamed) {
                setState(s, State::Active, QStringLiteral("edited in Alertmanager: was %1").arg(oldId));
            } else if (s.state != State::Active) {
                setState(s, State::Active, QString());
            }
        }
        Q_EMIT changed();
    });
}

void MitigationSilences::resumeFromJournal()
{
    LocalStore *local = m_session->localStore();
    if (!local->isOpen())
        return;
    const auto journal = local->journal();
    if (!journal.ok())
        return;
    bool any = false;
    for (const LocalStore::JournalEntry &e : *journal) {
        if (e.kind != QLatin1String("silence"))
            continue;
        const QJsonObject o = QJsonDocument::fromJson(e.payload).object();
        const QString key = o.value(QLatin1String("key")).toString();
        if (key.isEmpty() || byKey(key) || o.value(QLatin1String("alertmanager")).toString() != alertmanagerUrl())
            continue;
        Silence s;
        if (!readOutcome(e.outcome, &s))
            continue;
        s.journalId = e.id;
        s.key = key;
        s.region = o.value(QLatin1String("region")).toString();
        s.action = o.value(QLatin1String("action")).toString();
        s.reason = o.value(QLatin1String("reason")).toString();
        s.createdBy = o.value(QLatin1String("created_by")).toString();
        s.endsAtMs = o.value(QLatin1String("ends_at")).toInteger();
        s.createdAtMs = e.atMs; // asked for then; created within seconds of it
        if (s.state == State::Waiting) {
            // Nothing was sent: the console stopped before the fleet accepted the action.
            s.state = State::NotCreated;
            s.message = QStringLiteral("the console stopped before the action was accepted; nothing was sent");
            m_silences.append(s);
            record(m_silences.last());
            any = true;
            continue;
        }
        if (s.state == State::Creating) {
            s.state = State::Unknown;
            s.message = QStringLiteral("the console stopped while it was being created; looked for by its key");
        }
        m_silences.append(s);
        any = true;
    }
    if (any) {
        Q_EMIT changed();
        refresh();
    }
}

void MitigationSilences::setState(Silence &s, State state, const QString &message)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (state == State::Active && s.createdAtMs == 0)
        s.createdAtMs = now;
    if ((state == State::Expired || state == State::Ended) && s.endedAtMs == 0)
        s.endedAtMs = now;
    s.state = state;
    s.message = message;
    record(s);
    Q_EMIT changed();
}

void MitigationSilences::record(Silence &s)
{
    LocalStore *local = m_session->localStore();
    if (s.journalId > 0 && local->isOpen())
        local->setJournalOutcome(s.journalId, outcomeOf(s)); // a failure is reported by writeFailed
}

} // namespace fleet
