#pragma once

#include "fleettypes.h"
#include "statusbackend.h"

#include <QList>
#include <QObject>
#include <QString>

namespace fleet {

class FleetSession;
struct VerdictChange;

// One incident's story, merged from what the console saw and did: verdict changes (HealthMonitor), operations
// (anyone's, from the fleet) and the status updates on the page, in UTC order. Exported as Markdown and JSON, and
// turned into a postmortem draft with the sections of the seed incident's report. Records verdict changes from
// the moment it exists (bounded); operations and updates are read when asked. Qt Core.
class IncidentTimeline : public QObject
{
    Q_OBJECT

public:
    struct Entry
    {
        enum class Kind { Verdict, Operation, StatusUpdate };
        qint64 atMs = 0; // UTC
        Kind kind = Kind::Verdict;
        QString text; // one line, plain text
        QString actor; // who, for operations
        QString region; // the region concerned, if one
        QString detail; // verdict: "degraded", "healthy", ...; status update: its status
    };

    explicit IncidentTimeline(FleetSession *session);

    // Adds a verdict change as it happens (the session's HealthMonitor is connected to this).
    void recordVerdict(const VerdictChange &change);
    const QList<Entry> &verdicts() const { return m_verdicts; }

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
    // A region counts as affected in the postmortem once it was in trouble this long in all.
    static constexpr qint64 kAffectedMs = 5 * 60 * 1000;

private:
    FleetSession *m_session;
    QList<Entry> m_verdicts;
};

} // namespace fleet
