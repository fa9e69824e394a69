#pragma once

#include "fleettypes.h"
#include "incidentbundle.h"
#include "result.h"
#include "statusbackend.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QString>
#include <QUrl>

class QSqlDatabase;

namespace fleet {

class FleetSession;
class LocalStore;
struct VerdictChange;

// The incident record (issue #24): while connected, what an incident is made of goes into the local store, per
// fleet: verdict changes, operations as each state is seen, status updates the page has, Alertmanager's alerts, and
// the health of every region second by second while one is in trouble (from kPreRollSeconds before its verdict to
// kPostRollSeconds after the last one is healthy again). Everything is a bundle line (api/incidentbundle.h), written
// on the store's writer thread, never on the GUI thread; a row is recorded once however often it is seen again
// (its key), so a restarted console that sees the same things adds nothing. Bounded: rows older than the retention
// period go, and the oldest go first past the size cap (Settings, per profile), checked hourly.
//
// A restarted console reads back what an earlier run recorded for the same fleet (restored), so its timeline and
// postmortem draft are as complete as an uninterrupted one's. fleetctl reads the same rows into a bundle (read).
class IncidentRecorder : public QObject
{
    Q_OBJECT

public:
    explicit IncidentRecorder(FleetSession *session);

    // The fleet a record belongs to: the Fleet API's URL without credentials, query or fragment.
    static QString fleetKey(const QUrl &url);
    QString fleet() const { return m_fleet; }

    void setLimits(int retentionDays, int capMegabytes);
    int retentionDays() const { return m_retentionDays; }
    int capMegabytes() const { return m_capMb; }

    // A verdict change and an operation as they stood, as bundle events (the record's and fleetctl record's).
    static bundle::Event eventOf(const VerdictChange &change);
    static bundle::Event eventOf(const Operation &operation);
    // Queued for the disk at once (the same event recorded before is kept once).
    void record(const bundle::Event &event);
    // Writes the minute under way as far as it goes (the session does on its way out, and before the store closes).
    void flush();
    // Seconds of health recorded so far this run (for tests and the benchmark).
    qint64 samplesRecorded() const { return m_samplesRecorded; }

    // The record of `fleet` (empty: the one recorded most recently) over [fromMs, toMs] (0: no bound) as a bundle,
    // waiting for the disk: for fleetctl. The header's window is what the rows cover when no bound is given.
    static Result<bundle::Bundle> read(LocalStore *store, const QString &fleet, qint64 fromMs, qint64 toMs);
    // Drops what is past the retention period, then the oldest rows while the record is larger than the cap; on the
    // writer thread. Returns the SQL error, or empty.
    static QString prune(QSqlDatabase &db, qint64 retentionMs, qint64 capBytes, qint64 nowMs);
    // Bytes the record takes in the file (its lines), for the benchmark and tests.
    static qint64 sizeBytes(LocalStore *store);

    static constexpr int kPreRollSeconds = 600;
    static constexpr int kPostRollSeconds = 900;
    static constexpr int kBlockSeconds = 60; // one row of samples per region and minute
    static constexpr int kRestoreLimit = 20000; // events read back on a restart, the newest

Q_SIGNALS:
    // What an earlier run recorded for this fleet, read back once the store and the fleet are both known.
    void restored(const QList<fleet::bundle::Event> &events);

private:
    void fleetChanged();
    void restore();
    void onVerdict(const VerdictChange &change);
    void onOperations();
    void recordIncident(const status::Incident &incident);
    void followOutbox();
    void onHealth();
    void writeBlock(qint64 fromSecond, qint64 toSecond);
    void writeMeta();
    void pruneNow();

    FleetSession *m_session;
    QString m_fleet;
    int m_retentionDays = 30;
    int m_capMb = 500;
    QSet<QString> m_recorded; // keys written this run (the table ignores one written by an earlier run)
    QHash<QString, OperationState> m_operationStates; // each operation's state as last recorded, by id
    qint64 m_recordUntil = 0; // fleet second: record samples up to here
    qint64 m_nextBlock = 0; // the first second of the next block of samples to write
    qint64 m_samplesRecorded = 0;
    qint64 m_lastPruneMs = 0;
    bool m_recording = false; // samples: a region is in trouble, or was less than kPostRollSeconds ago
    bool m_restoredThisFleet = false;
};

} // namespace fleet
