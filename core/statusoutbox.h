#pragma once

#include "backoff.h"
#include "localstore.h"
#include "statusbackend.h"

#include <QObject>

#include <QPointer>
#include <QTimer>
#include <optional>

namespace fleet {

// The durable outbox of status-page writes. Every write (open an incident, update it, resolve it, put and publish a
// postmortem) is stored in the local store first, shown as "queued", and delivered in the order it was written, one
// at a time, exactly once: a write whose answer was lost is looked up on the page (by the keys the console puts in
// the incident's metadata) before it is sent again, also after a crash or restart of the console. While the page is
// unreachable, rate-limiting or refusing the key, writes stay queued with the reason and are retried with backoff;
// a write the page refuses for its content (422) fails with the page's words, and nothing after it is held back
// except writes to an incident that was never created. Qt Core; the console and fleetctl share it.
class StatusOutbox : public QObject
{
    Q_OBJECT

public:
    enum class Kind { Create, Update, Postmortem, Publish };

    // `store` must stay open while the outbox lives; not owned.
    explicit StatusOutbox(LocalStore *store, QObject *parent = nullptr);
    ~StatusOutbox() override;

    // Where to publish; delivery starts (or resumes) at once. Without a backend writes stay queued, with `problem`
    // as the reason. Not owned: the session builds one from the profile and shares it (the page's rate limit is
    // spent once); an answer still on its way from a backend that is replaced is dropped with it.
    void setBackend(StatusBackend *backend, const QString &problem = {});
    // The same with a Statuspage backend of its own for `config` (fleetctl, tests).
    void setConfig(const StatusPageConfig &config);
    StatusBackend *backend() const { return m_backend; }
    QString problem() const { return m_problem; } // why there is no backend; empty when there is one

    // Queue a write. Fails (and nothing is queued) when the write is invalid or the store cannot keep it; the
    // message says which. `incident` names the target: its page id ("p31zjtct2jer"), or the key of an incident this
    // console opened (delivered or still queued).
    Result<qint64> open(status::IncidentChange change);
    Result<qint64> update(const QString &incident, status::IncidentChange change);
    // An update to "resolved" that also sets every component the incident affects back to operational.
    Result<qint64> resolve(const QString &incident, status::IncidentChange change);
    Result<qint64> putPostmortem(const QString &incident, const QString &draft);
    Result<qint64> publishPostmortem(const QString &incident, bool notifySubscribers);

    // The entries (pending ones, then the most recent delivered or failed), oldest first.
    QList<LocalStore::OutboxEntry> entries() const;
    int pendingCount() const;
    // One line for a status bar: "2 status updates queued: the status page is unreachable (...)"; empty if none.
    QString summary() const;
    // Retries now instead of at the next backoff step (after the engineer fixed the key, say): "look again".
    void retryNow();
    // Stops trying to deliver a pending entry: it fails with "given up by the engineer", which says that it may
    // or may not be on the page. For an entry whose outcome is unknown, after the engineer looked at the page.
    Status giveUp(qint64 id);
    // A pending entry that was sent and whose arrival nobody can tell yet: it is not sent again until the page
    // can be asked and says it does not have it.
    static bool isUnknown(const LocalStore::OutboxEntry &entry);
    // Whether this console's latest create or update of `incident` (its page id) notified subscribers; none when it
    // wrote nothing to it. The composer starts an incident's next update with that choice, and says so.
    std::optional<bool> notifyChoiceFor(const QString &incident) const;
    // This console resolved an incident (delivered) and has published no postmortem since: the next step offered.
    bool resolvedWithoutPostmortem() const;
    // The status of the incident this console wrote to last, as its latest delivered create or update set it
    // ("investigating" ... "resolved"); empty when it delivered none.
    QString lastDeliveredStatus() const;

    // "Queued: ...", "Delivered 09:13 UTC", "Failed: ..." for an entry.
    static QString describe(const LocalStore::OutboxEntry &entry);

Q_SIGNALS:
    void changed(); // an entry was added or changed state
    void delivered(const fleet::LocalStore::OutboxEntry &entry, const fleet::status::Incident &incident);
    void failed(const fleet::LocalStore::OutboxEntry &entry);

private:
    Result<qint64> enqueue(
        Kind kind, const QString &incident, const QJsonObject &payload, const QString &summary, const QString &key);
    void pump();
    void reload();
    QString label(const QString &incident) const;
    void send(LocalStore::OutboxEntry entry);
    void transmit(const LocalStore::OutboxEntry &entry); // once its "sending" is on disk
    void claimed(const LocalStore::OutboxClaim &claim);
    void merge(const QList<LocalStore::OutboxEntry> &onDisk);
    void lookUpThenSend(LocalStore::OutboxEntry entry);
    void settle(LocalStore::OutboxEntry entry, const ApiResult<status::Incident> &result);
    static constexpr int kMaxRetryAfterSeconds = 300;
    void keepQueued(LocalStore::OutboxEntry entry, const QString &why, int retryAfterSeconds = -1);
    void fail(LocalStore::OutboxEntry entry, const QString &why);
    // The page id of the entry's incident: given, or the result of the create that had its key; empty if unknown.
    QString incidentIdOf(const LocalStore::OutboxEntry &entry, QString *whyNot) const;
    void save(const LocalStore::OutboxEntry &entry);
    // One line in the local audit log for `entry` (every attempt and outcome is one).
    void record(const LocalStore::OutboxEntry &entry, const QString &target, const QString &outcome);

    LocalStore *m_store;
    QPointer<StatusBackend> m_backend;
    StatusBackend *m_ownBackend = nullptr; // setConfig's
    QString m_problem = QStringLiteral("no status page is configured");
    QList<LocalStore::OutboxEntry> m_entries; // mirror of the store's outbox
    bool m_busy = false;
    bool m_claiming = false; // the store is reading the file and taking the lease
    QTimer m_retry;
    Backoff m_backoff { 2000, 60000 };
    QString m_blockedBy; // why the head of the queue waits
    QString m_owner; // this process, for the delivery lease
    static constexpr int kLeaseMs = 60000;
};

QString kindName(StatusOutbox::Kind kind);

} // namespace fleet
