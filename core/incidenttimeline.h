#pragma once

#include "alertmanager.h"
#include "fleettypes.h"
#include "incidentbundle.h"
#include "statusbackend.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QString>

namespace fleet {

class FleetSession;
struct VerdictChange;

// One incident's story, merged from what the console saw and did: verdict changes (HealthMonitor), operations
// (anyone's, from the fleet), the status updates on the page, Alertmanager's alerts and the silences made with a
// mitigation (issue #23), in UTC order. Exported as Markdown and JSON, and
// turned into a postmortem draft with the sections of the seed incident's report. Records verdict changes from
// the moment it exists (bounded); operations and updates are read when asked. Qt Core.
class IncidentTimeline : public QObject
{
    Q_OBJECT

public:
    struct Entry
    {
        // Alert: Alertmanager's (firing, then resolved); Silence: a mitigation's silence (made, then expired);
        // Metric: a moment of the incident's time to detect, acknowledge or mitigate (IncidentMetrics).
        enum class Kind { Verdict, Operation, StatusUpdate, Alert, Silence, Metric };
        qint64 atMs = 0; // UTC
        Kind kind = Kind::Verdict;
        QString text; // one line, plain text
        QString actor; // who, for operations
        QString region; // the region concerned, if one (its name where known)
        QString detail; // verdict: "degraded", "healthy", ...; status update: its status
        QString regionId; // the region's id, if one
        QString type; // operation: its type's wire name ("provision", "drain_region", ...)
        QString key; // status update: its id on the page; operation: its id
    };

    explicit IncidentTimeline(FleetSession *session);

    // Adds a verdict change as it happens (the session's HealthMonitor is connected to this).
    void recordVerdict(const VerdictChange &change);
    const QList<Entry> &verdicts() const { return m_verdicts; }
    // Alerts as a poll of Alertmanager found them (the session's AlertWatch is connected to this): an alert not seen
    // before is recorded firing at its own start, one gone from the poll resolved at `nowMs`. Wall-clock times, as
    // Alertmanager's; they line up with the fleet's when it runs on the wall clock (a real fleet does).
    void recordAlerts(const QList<AmAlert> &alerts, qint64 nowMs);
    const QList<Entry> &alertEntries() const { return m_alerts; }

    // What an earlier run recorded (IncidentRecorder::restored): verdicts and alerts join this run's, operations and
    // status updates are shown where the fleet and the page no longer have them. Each once, in time order.
    void restore(const QList<bundle::Event> &events);
    void clear(); // forgets every entry (a replay moved to another moment)
    // An event of a record or bundle as a timeline entry.
    static Entry entryOf(const bundle::Event &event);
    // A whole bundle's events as the timeline shows them (fleetctl, replay), oldest first.
    static QList<Entry> entriesOf(const QList<bundle::Event> &events);

    // Everything from `fromMs` (0: all) merged with `incident`'s updates (none for an empty incident), oldest first.
    QList<Entry> entries(const status::Incident &incident, qint64 fromMs = 0) const;

    static QString toMarkdown(const QList<Entry> &entries, const QString &title);
    static QByteArray toJson(const QList<Entry> &entries, const QString &title);
    // The postmortem draft: summary; what happened; our response and mitigation; resolution, with UTC times; what
    // was affected. Plain Markdown, for the engineer to edit before it is sent. Affected are the regions in trouble
    // for kAffectedMs or more; what happened is when each began, got worst and recovered; recovery is when the
    // last of them was healthy again and stayed so. The whole record is the timeline's export.
    static QString postmortemDraft(const QList<Entry> &entries, const status::Incident &incident);

    static constexpr int kMaxVerdicts = 5000;
    static QString kindName(Entry::Kind kind); // "verdict", "operation", "status_update", "alert", "silence"

    // A region counts as affected in the postmortem once it was in trouble this long in all.
    static constexpr qint64 kAffectedMs = 5 * 60 * 1000;

Q_SIGNALS:
    // An alert as recordAlerts saw it: "firing" at its start, "resolved" when a poll no longer had it.
    void alertRecorded(const fleet::AmAlert &alert, const QString &state, qint64 atMs);

private:
    void followAlerts();

    FleetSession *m_session;
    QList<Entry> m_verdicts;
    QList<Entry> m_alerts;
    QHash<QString, AmAlert> m_firing; // by fingerprint, as of the last poll
    QHash<QString, Entry> m_recordedOperations; // by id, as last recorded
    QList<Entry> m_recordedUpdates;
    QHash<QString, QString> m_recordedUpdateIncident; // update id -> its incident's id
};

} // namespace fleet
