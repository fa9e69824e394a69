#include "statusoutbox.h"

#include "terminalsafe.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFileInfo>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QSet>
#include <QSysInfo>
#include <QUuid>

#include <algorithm>

Q_LOGGING_CATEGORY(lcOutbox, "fleet.outbox", QtInfoMsg)

namespace fleet {

using status::Incident;
using status::IncidentChange;

namespace {

constexpr QLatin1String kQueued("queued");
constexpr QLatin1String kSending("sending");
constexpr QLatin1String kDelivered("delivered");
constexpr QLatin1String kFailed("failed");
// The words that open an entry's reason while nobody can tell whether the page has it (never sent again then).
constexpr QLatin1String kUnknownOutcome("outcome unknown, asked again later: ");

QString newKey()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

QJsonObject payloadOf(const LocalStore::OutboxEntry &e)
{
    return QJsonDocument::fromJson(e.payload).object();
}

bool isPending(const LocalStore::OutboxEntry &e)
{
    return e.state == kQueued || e.state == kSending;
}

} // namespace

QString kindName(StatusOutbox::Kind kind)
{
    switch (kind) {
    case StatusOutbox::Kind::Create:
        return QStringLiteral("create");
    case StatusOutbox::Kind::Update:
        return QStringLiteral("update");
    case StatusOutbox::Kind::Postmortem:
        return QStringLiteral("postmortem");
    case StatusOutbox::Kind::Publish:
        return QStringLiteral("publish");
    }
    return {};
}

StatusOutbox::StatusOutbox(LocalStore *store, QObject *parent)
    : QObject(parent)
    , m_store(store)
{
    qRegisterMetaType<LocalStore::OutboxEntry>();
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, &StatusOutbox::pump);
    m_owner = QStringLiteral("%1 (pid %2) on %3")
                  .arg(QCoreApplication::applicationName().isEmpty() ? QStringLiteral("fleet console")
                                                                     : QCoreApplication::applicationName())
                  .arg(QCoreApplication::applicationPid())
                  .arg(QSysInfo::machineHostName());
    reload();
}

StatusOutbox::~StatusOutbox()
{
    m_store->releaseOutbox(m_owner);
}

void StatusOutbox::reload()
{
    // Another process (fleetctl, a second console) may have queued or delivered entries meanwhile.
    if (auto all = m_store->outbox(); all.ok())
        m_entries = all.take();
}

void StatusOutbox::setBackend(StatusBackend *backend, const QString &problem)
{
    m_backend = backend;
    m_problem = backend ? QString() : (problem.isEmpty() ? QStringLiteral("no status page is configured") : problem);
    m_busy = false; // an answer still on its way from the old backend is dropped with it; looked up on the next send
    m_backoff.reset();
    pump();
}

void StatusOutbox::setConfig(const StatusPageConfig &config)
{
    StatusBackend *old = m_ownBackend;
    QString problem;
    m_ownBackend = StatusBackend::forConfig(config, this, &problem);
    setBackend(m_ownBackend, problem);
    delete old;
}

Result<qint64> StatusOutbox::open(IncidentChange change)
{
    if (change.incidentKey.isEmpty())
        change.incidentKey = newKey();
    change.updateKey = newKey();
    if (const QString problem = change.problem(true); !problem.isEmpty())
        return Result<qint64>::failure(QStringLiteral("not queued: ") + problem);
    return enqueue(Kind::Create, change.incidentKey, { { QStringLiteral("change"), change.toValue() } },
        QStringLiteral("open \"%1\" (%2)").arg(change.name, status::inWords(change.status)), change.updateKey);
}

Result<qint64> StatusOutbox::update(const QString &incident, IncidentChange change)
{
    change.updateKey = newKey();
    if (const QString problem = change.problem(false); !problem.isEmpty())
        return Result<qint64>::failure(QStringLiteral("not queued: ") + problem);
    if (incident.isEmpty())
        return Result<qint64>::failure(QStringLiteral("not queued: which incident? (its id on the page)"));
    return enqueue(Kind::Update, incident, { { QStringLiteral("change"), change.toValue() } },
        QStringLiteral("%1: %2").arg(status::inWords(change.status), label(incident)), change.updateKey);
}

Result<qint64> StatusOutbox::resolve(const QString &incident, IncidentChange change)
{
    change.status = QStringLiteral("resolved");
    change.updateKey = newKey();
    if (const QString problem = change.problem(false); !problem.isEmpty())
        return Result<qint64>::failure(QStringLiteral("not queued: ") + problem);
    if (incident.isEmpty())
        return Result<qint64>::failure(QStringLiteral("not queued: which incident? (its id on the page)"));
    return enqueue(Kind::Update, incident,
        { { QStringLiteral("change"), change.toValue() }, { QStringLiteral("restore_components"), true } },
        QStringLiteral("Resolved: %1").arg(label(incident)), change.updateKey);
}

Result<qint64> StatusOutbox::putPostmortem(const QString &incident, const QString &draft)
{
    if (draft.trimmed().isEmpty())
        return Result<qint64>::failure(QStringLiteral("not queued: the postmortem draft is empty"));
    const int limit = m_backend ? m_backend->maxBody() : status::kMaxBody;
    if (draft.size() > limit)
        return Result<qint64>::failure(QStringLiteral("not queued: the postmortem has %1 characters; the status "
                                                      "page takes at most %2")
                                           .arg(draft.size())
                                           .arg(limit));
    return enqueue(Kind::Postmortem, incident, { { QStringLiteral("draft"), draft } },
        QStringLiteral("postmortem draft of %1").arg(label(incident)), newKey());
}

Result<qint64> StatusOutbox::publishPostmortem(const QString &incident, bool notifySubscribers)
{
    return enqueue(Kind::Publish, incident, { { QStringLiteral("notify"), notifySubscribers } },
        QStringLiteral("publish the postmortem of %1").arg(label(incident)), newKey());
}

QString StatusOutbox::label(const QString &incident) const
{
    // "Builder partially degraded service" rather than a key or a page id, when this console opened it.
    for (const auto &e : m_entries) {
        if (e.kind != kindName(Kind::Create))
            continue;
        const QJsonObject change = payloadOf(e).value(QLatin1String("change")).toObject();
        if (change.value(QLatin1String("incident_key")).toString() == incident
            || (!e.result.isEmpty() && e.result == incident))
            return QStringLiteral("\"%1\"").arg(change.value(QLatin1String("name")).toString());
    }
    return incident;
}

Result<qint64> StatusOutbox::enqueue(
    Kind kind, const QString &incident, const QJsonObject &payload, const QString &summary, const QString &key)
{
    // A page id (from the page, or typed) or the key of an incident this console opened: either goes into a path.
    if (const QString problem = idProblem(incident, QStringLiteral("incident")); !problem.isEmpty())
        return Result<qint64>::failure(QStringLiteral("not queued: ") + problem);
    QJsonObject p = payload;
    p.insert(QStringLiteral("incident"), incident);
    LocalStore::OutboxEntry e;
    e.createdMs = QDateTime::currentMSecsSinceEpoch();
    e.key = key;
    e.payload = QJsonDocument(p).toJson(QJsonDocument::Compact);
    e.state = kQueued;
    e.kind = kindName(kind);
    e.summary = summary;
    auto id = m_store->appendOutbox(e);
    if (!id.ok())
        return Result<qint64>::failure(QStringLiteral("not queued: ") + id.error());
    e.id = *id;
    m_entries << e;
    record(e, incident, QStringLiteral("queued (outbox %1)").arg(e.id));
    qCInfo(lcOutbox).noquote() << "queued" << e.id << terminalSafe(summary);
    Q_EMIT changed();
    QMetaObject::invokeMethod(this, &StatusOutbox::pump, Qt::QueuedConnection);
    return id;
}

QList<LocalStore::OutboxEntry> StatusOutbox::entries() const
{
    return m_entries;
}

int StatusOutbox::pendingCount() const
{
    return int(std::count_if(m_entries.begin(), m_entries.end(), isPending));
}

QString StatusOutbox::summary() const
{
    const int pending = pendingCount();
    if (pending == 0)
        return {};
    QString why = m_blockedBy;
    if (why.isEmpty()) {
        const auto head = std::find_if(m_entries.begin(), m_entries.end(), isPending);
        why = head->lastError;
    }
    if (why.isEmpty())
        why = m_backend ? QStringLiteral("sending")
                        : QStringLiteral("not being sent from here: the console, or fleetctl incident outbox --send, "
                                         "delivers them");
    return QStringLiteral("%1 status %2 queued: %3")
        .arg(QString::number(pending), pending == 1 ? QStringLiteral("update") : QStringLiteral("updates"), why);
}

QString StatusOutbox::describe(const LocalStore::OutboxEntry &e)
{
    if (e.state == kDelivered)
        return QStringLiteral("delivered (%1)").arg(e.result);
    if (e.state == kFailed)
        return QStringLiteral("failed: ") + e.lastError;
    if (e.state == kSending)
        return QStringLiteral("sending (if that process stopped, the page is asked whether it arrived before it is "
                              "sent again)");
    return e.lastError.isEmpty() ? QStringLiteral("queued") : QStringLiteral("queued: ") + e.lastError;
}

bool StatusOutbox::isUnknown(const LocalStore::OutboxEntry &entry)
{
    return isPending(entry) && entry.lastError.startsWith(kUnknownOutcome);
}

Status StatusOutbox::giveUp(qint64 id)
{
    for (const auto &e : std::as_const(m_entries)) {
        if (e.id != id)
            continue;
        if (!isPending(e))
            return Status::failure(QStringLiteral("outbox entry %1 is %2 already").arg(id).arg(e.state));
        if (m_busy && e.state == kSending)
            return Status::failure(
                QStringLiteral("outbox entry %1 is on its way now; give up once it answers").arg(id));
        fail(e,
            QStringLiteral("given up by the engineer%1: it may or may not be on the status page; look there before "
                           "writing it again")
                .arg(e.lastError.isEmpty() ? QString() : QStringLiteral(" (") + e.lastError + u')'));
        return Status::success();
    }
    return Status::failure(QStringLiteral("no outbox entry %1").arg(id));
}

void StatusOutbox::retryNow()
{
    m_backoff.reset();
    m_retry.stop();
    pump();
}

void StatusOutbox::save(const LocalStore::OutboxEntry &entry)
{
    for (auto &e : m_entries)
        if (e.id == entry.id)
            e = entry;
    if (Status saved = m_store->updateOutbox(entry); !saved)
        m_blockedBy = saved.error(); // shown; the page state is still right, the store will be retried
    Q_EMIT changed();
}

std::optional<bool> StatusOutbox::notifyChoiceFor(const QString &incident) const
{
    if (incident.isEmpty())
        return std::nullopt;
    std::optional<bool> choice;
    for (const LocalStore::OutboxEntry &e : m_entries) {
        if (e.kind != kindName(Kind::Create) && e.kind != kindName(Kind::Update))
            continue;
        QString whyNot;
        if (incidentIdOf(e, &whyNot) != incident)
            continue;
        const QJsonObject change = payloadOf(e).value(QLatin1String("change")).toObject();
        if (change.contains(QLatin1String("deliver_notifications")))
            choice = change.value(QLatin1String("deliver_notifications")).toBool();
    }
    return choice;
}

bool StatusOutbox::resolvedWithoutPostmortem() const
{
    bool resolved = false;
    for (const LocalStore::OutboxEntry &e : m_entries) {
        if (e.kind == kindName(Kind::Publish))
            resolved = false;
        else if (e.state == kDelivered
            && payloadOf(e).value(QLatin1String("change")).toObject().value(QLatin1String("status")).toString()
                == QLatin1String("resolved"))
            resolved = true;
    }
    return resolved;
}

QString StatusOutbox::lastDeliveredStatus() const
{
    QString status;
    for (const LocalStore::OutboxEntry &e : m_entries) {
        if (e.state == kDelivered && (e.kind == kindName(Kind::Create) || e.kind == kindName(Kind::Update)))
            status = payloadOf(e).value(QLatin1String("change")).toObject().value(QLatin1String("status")).toString();
    }
    return status;
}

QString StatusOutbox::incidentIdOf(const LocalStore::OutboxEntry &entry, QString *whyNot) const
{
    const QString ref = payloadOf(entry).value(QLatin1String("incident")).toString();
    if (entry.kind == kindName(Kind::Create))
        return entry.result; // known once delivered
    // A key of an incident this console opened: the create's result.
    for (const auto &e : m_entries) {
        if (e.kind != kindName(Kind::Create) || e.id >= entry.id)
            continue;
        const QJsonObject change = payloadOf(e).value(QLatin1String("change")).toObject();
        if (change.value(QLatin1String("incident_key")).toString() != ref)
            continue;
        if (e.state == kDelivered)
            return e.result;
        *whyNot = e.state == kFailed ? QStringLiteral("its incident was never created (%1)").arg(e.lastError)
                                     : QStringLiteral("its incident is not created yet");
        return {};
    }
    return ref; // a page id
}

void StatusOutbox::pump()
{
    if (m_busy || m_claiming || m_retry.isActive())
        return;
    if (!m_backend) {
        if (pendingCount() > 0) {
            m_blockedBy = m_problem;
            Q_EMIT changed();
        }
        return;
    }
    // The file, read on the store's thread after every write asked before (another process may have queued or
    // delivered entries meanwhile), and the lease taken when something is to be delivered.
    m_claiming = true;
    m_store->claimOutbox(
        m_owner, kLeaseMs,
        [](const QString &owner) {
            // "<name> (pid N) on <host>": gone when it was on this host and no such process is left.
            static const QRegularExpression pattern(QStringLiteral("\\(pid (\\d+)\\) on (.+)$"));
            const auto m = pattern.match(owner);
            return m.hasMatch() && m.captured(2) == QSysInfo::machineHostName()
                && !QFileInfo::exists(QStringLiteral("/proc/") + m.captured(1));
        },
        this,
        [this](const LocalStore::OutboxClaim &claim) {
            m_claiming = false;
            if (m_backend && !m_busy)
                claimed(claim);
            else
                pump(); // the page changed meanwhile
        });
}

void StatusOutbox::merge(const QList<LocalStore::OutboxEntry> &onDisk)
{
    // The file's version of each entry, unless this process has asked for a write of it that is not on disk yet
    // (then its own is newer); its entries the file does not hold yet stay.
    QList<LocalStore::OutboxEntry> merged;
    QSet<qint64> seen;
    for (const LocalStore::OutboxEntry &d : onDisk) {
        seen.insert(d.id);
        const auto mine = std::find_if(
            m_entries.cbegin(), m_entries.cend(), [&](const LocalStore::OutboxEntry &e) { return e.id == d.id; });
        merged << (mine != m_entries.cend() && m_store->hasUnwrittenOutbox(d.id) ? *mine : d);
    }
    for (const LocalStore::OutboxEntry &e : std::as_const(m_entries))
        if (!seen.contains(e.id) && m_store->hasUnwrittenOutbox(e.id))
            merged << e;
    std::sort(merged.begin(), merged.end(), [](const auto &a, const auto &b) { return a.id < b.id; });
    m_entries = merged;
}

void StatusOutbox::claimed(const LocalStore::OutboxClaim &claim)
{
    if (!claim.error.isEmpty()) {
        m_blockedBy = claim.error;
        m_retry.start(kLeaseMs / 3);
        Q_EMIT changed();
        return;
    }
    merge(claim.entries);
    auto head = std::find_if(m_entries.begin(), m_entries.end(), isPending);
    if (head == m_entries.end()) {
        m_blockedBy.clear();
        m_backoff.reset();
        Q_EMIT changed();
        return;
    }
    if (claim.holder.isEmpty()) {
        // The file held nothing to deliver when it was read: the entry was queued after the read (asked again at
        // once, behind its write), or the disk refuses it (asked again once the store has tried it again).
        if (m_store->isFailing()) {
            m_blockedBy = QStringLiteral("not sent until the local store has it: ") + m_store->lastError();
            m_retry.start(m_backoff.nextDelayMs());
            Q_EMIT changed();
        } else {
            QMetaObject::invokeMethod(this, &StatusOutbox::pump, Qt::QueuedConnection);
        }
        return;
    }
    if (claim.holder != m_owner) {
        // Someone else delivers (their order, their lookups): look again later in case they stop.
        m_blockedBy = QStringLiteral("being delivered by %1").arg(claim.holder);
        m_retry.start(kLeaseMs / 3);
        Q_EMIT changed();
        return;
    }
    // Tried before (the console stopped while it was on its way, or no answer came): ask the page first.
    if (head->state == kSending || head->attempts > 0)
        lookUpThenSend(*head);
    else
        send(*head);
}

void StatusOutbox::lookUpThenSend(LocalStore::OutboxEntry entry)
{
    m_busy = true;
    const QJsonObject p = payloadOf(entry);
    const QJsonObject change = p.value(QLatin1String("change")).toObject();
    // Not on the page (or the page could not be asked): send it, or keep it queued with the reason.
    auto notThere = [this, entry](ApiResult<Incident> r) {
        if (!r.ok())
            keepQueued(entry, kUnknownOutcome + r.error().message, r.error().retryAfterSeconds);
        else
            send(entry);
    };
    const IncidentChange asSent = IncidentChange::fromValue(change);
    if (entry.kind == kindName(Kind::Create)) {
        m_backend->findCreated(asSent, entry.createdMs, this, [this, entry, notThere](ApiResult<Incident> found) {
            m_busy = false;
            if (found.ok() && !found->id.isEmpty()) {
                settle(entry, found);
                return;
            }
            notThere(found);
        });
        return;
    }
    QString whyNot;
    const QString id = incidentIdOf(entry, &whyNot);
    if (id.isEmpty() || entry.kind == kindName(Kind::Postmortem)) {
        m_busy = false;
        send(entry); // a draft replaced twice is the same draft; an unknown id fails in send()
        return;
    }
    m_backend->incident(id, this, [this, entry, asSent, notThere](ApiResult<Incident> found) {
        m_busy = false;
        IncidentChange keyed = asSent;
        keyed.updateKey = entry.key;
        const bool arrived = found.ok()
            && ((entry.kind == kindName(Kind::Update) && m_backend->carries(*found, keyed, entry.createdMs))
                || (entry.kind == kindName(Kind::Publish) && found->postmortemPublished));
        if (arrived) {
            settle(entry, found);
            return;
        }
        notThere(found);
    });
}

void StatusOutbox::send(LocalStore::OutboxEntry entry)
{
    QString whyNot;
    const QString id = incidentIdOf(entry, &whyNot);
    if (entry.kind != kindName(Kind::Create) && id.isEmpty()) {
        fail(entry, QStringLiteral("not sent: ") + whyNot);
        return;
    }
    m_busy = true;
    entry.state = kSending;
    ++entry.attempts;
    save(entry);
    // It leaves only once "sending" is on disk: a console killed after that looks it up at the next start instead
    // of sending it again.
    m_store->whenWritten(this, [this, entry](const Status &written) {
        if (!written) {
            m_busy = false;
            m_blockedBy = QStringLiteral("not sent while the local store cannot record it: ") + written.error();
            m_retry.start(m_backoff.nextDelayMs());
            Q_EMIT changed();
            return;
        }
        transmit(entry);
    });
}

void StatusOutbox::transmit(const LocalStore::OutboxEntry &entry)
{
    const QJsonObject p = payloadOf(entry);
    QString whyNot;
    const QString id = incidentIdOf(entry, &whyNot);
    auto done = [this, entry](ApiResult<Incident> r) {
        m_busy = false;
        settle(entry, r);
    };
    const IncidentChange change = IncidentChange::fromValue(p.value(QLatin1String("change")).toObject());
    if (entry.kind == kindName(Kind::Create)) {
        m_backend->create(change, this, done);
    } else if (entry.kind == kindName(Kind::Update) && p.value(QLatin1String("restore_components")).toBool()) {
        // Resolving: every component the incident affects goes back to operational, explicitly (the page does
        // not do it by itself). Read at send time, so components added by anyone since are included.
        m_backend->incident(id, this, [this, id, change, done](ApiResult<Incident> current) {
            if (!current.ok()) {
                done(ApiResult<Incident>::failure(current.error()));
                return;
            }
            IncidentChange resolved = change;
            for (const status::Component &c : current->components)
                if (!resolved.components.contains(c.id))
                    resolved.components.insert(c.id, QStringLiteral("operational"));
            m_backend->update(id, resolved, this, done);
        });
    } else if (entry.kind == kindName(Kind::Update)) {
        m_backend->update(id, change, this, done);
    } else {
        // Postmortems answer with the postmortem; the incident is read back for the record.
        auto thenIncident = [id, done](ApiResult<status::Postmortem> pm) {
            if (!pm.ok()) {
                done(ApiResult<Incident>::failure(pm.error()));
                return;
            }
            Incident i;
            i.id = id;
            done(ApiResult<Incident>::success(i));
        };
        if (entry.kind == kindName(Kind::Postmortem))
            m_backend->putPostmortem(id, p.value(QLatin1String("draft")).toString(), this, thenIncident);
        else
            m_backend->publishPostmortem(id, p.value(QLatin1String("notify")).toBool(), this, thenIncident);
    }
}

void StatusOutbox::settle(LocalStore::OutboxEntry entry, const ApiResult<Incident> &result)
{
    if (result.ok()) {
        entry.state = kDelivered;
        entry.result = result->id;
        entry.lastError.clear();
        save(entry);
        m_blockedBy.clear();
        m_backoff.reset();
        record(entry, result->id,
            QStringLiteral("succeeded: delivered as %1 after %2 attempt(s)").arg(result->id).arg(entry.attempts));
        qCInfo(lcOutbox).noquote() << "delivered" << entry.id << terminalSafe(entry.summary) << "->"
                                   << terminalSafe(result->id);
        Q_EMIT delivered(entry, *result);
        pump();
        return;
    }
    const ApiError &e = result.error();
    // The page's own verdict on the content is final; anything that may pass by itself (the network, a timeout,
    // 5xx, the rate limit, a key being fixed, an unreadable answer that may hide a success) keeps it queued.
    const bool definite = e.kind == ApiError::Kind::Http && e.httpStatus >= 400 && e.httpStatus < 500
        && e.httpStatus != 408 && e.httpStatus != 420 && e.httpStatus != 429;
    if (definite)
        fail(entry, e.message);
    else
        keepQueued(entry, e.message, e.retryAfterSeconds);
}

void StatusOutbox::keepQueued(LocalStore::OutboxEntry entry, const QString &why, int retryAfterSeconds)
{
    // The local audit log has the attempts, not only the outcome: one line each time the reason changes (a long
    // outage retried every minute would otherwise push everything else out of the Activity tab); the delivery's
    // line says how many attempts it took.
    const bool newReason = entry.lastError != why;
    entry.state = kQueued;
    entry.lastError = why;
    save(entry);
    m_blockedBy = why;
    if (entry.attempts > 0 && newReason)
        record(entry, payloadOf(entry).value(QLatin1String("incident")).toString(),
            QStringLiteral("queued: attempt %1: %2").arg(QString::number(entry.attempts), why));
    // The page's Retry-After is honoured up to five minutes (a longer one is a misconfigured or hostile page;
    // "retry now" is always there for a person).
    const int delay = int(std::max<qint64>(m_backoff.nextDelayMs(),
        retryAfterSeconds > 0 ? clampRetryAfterMs(std::min(retryAfterSeconds, kMaxRetryAfterSeconds)) : 0));
    qCInfo(lcOutbox).noquote() << "kept queued" << entry.id << terminalSafe(entry.summary) << "-" << terminalSafe(why)
                               << "- retrying in" << delay << "ms";
    m_retry.start(delay);
    Q_EMIT changed();
}

void StatusOutbox::record(const LocalStore::OutboxEntry &entry, const QString &target, const QString &outcome)
{
    LocalStore::JournalEntry j;
    j.kind = QStringLiteral("status_") + entry.kind;
    j.target = target;
    j.summary = entry.summary;
    j.payload = entry.payload;
    j.outcome = outcome;
    m_store->appendJournal(j);
}

void StatusOutbox::fail(LocalStore::OutboxEntry entry, const QString &why)
{
    entry.state = kFailed;
    entry.lastError = why;
    save(entry);
    record(entry, payloadOf(entry).value(QLatin1String("incident")).toString(), QStringLiteral("failed: ") + why);
    qCWarning(lcOutbox).noquote() << "failed" << entry.id << terminalSafe(entry.summary) << "-" << terminalSafe(why);
    Q_EMIT failed(entry);
    pump();
}

} // namespace fleet
