#include "incidenttimeline.h"

#include "actioncontroller.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "healthmonitor.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>

#include <algorithm>

namespace fleet {

namespace {

QString hhmm(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("HH:mm"));
}

QString kindName(IncidentTimeline::Entry::Kind kind)
{
    switch (kind) {
    case IncidentTimeline::Entry::Kind::Verdict:
        return QStringLiteral("verdict");
    case IncidentTimeline::Entry::Kind::Operation:
        return QStringLiteral("operation");
    case IncidentTimeline::Entry::Kind::StatusUpdate:
        return QStringLiteral("status_update");
    }
    return {};
}

// Markdown has no escaping a reader notices; strip what would turn a line into markup or a link.
QString plain(QString text)
{
    text.replace(u'\n', u' ');
    text.replace(u'\r', u' ');
    for (const QChar c : { u'*', u'_', u'`', u'[', u']', u'<', u'>', u'#' })
        text.replace(c, QString(u'\\') + c);
    return text;
}

} // namespace

IncidentTimeline::IncidentTimeline(FleetSession *session)
    : QObject(session)
    , m_session(session)
{
    connect(session->healthMonitor(), &HealthMonitor::verdictChanged, this, &IncidentTimeline::recordVerdict);
}

void IncidentTimeline::recordVerdict(const VerdictChange &change)
{
    Entry e;
    e.atMs = change.atSecond * 1000;
    e.kind = Entry::Kind::Verdict;
    e.text = change.text();
    e.region = change.regionName.isEmpty() ? change.region : change.regionName;
    e.detail = wireName(change.to);
    m_verdicts << e;
    if (m_verdicts.size() > kMaxVerdicts)
        m_verdicts.remove(0, m_verdicts.size() - kMaxVerdicts);
}

QList<IncidentTimeline::Entry> IncidentTimeline::entries(const statuspage::Incident &incident, qint64 fromMs) const
{
    QList<Entry> out;
    for (const Entry &e : m_verdicts)
        if (e.atMs >= fromMs)
            out << e;
    for (const Operation &op : m_session->store()->operations()) {
        if (op.createdAt < fromMs)
            continue;
        Entry e;
        e.atMs = op.createdAt;
        e.kind = Entry::Kind::Operation;
        e.actor = op.requestedBy;
        e.region = op.region;
        e.detail = wireName(op.state).toString();
        e.text = QStringLiteral("%1 %2 (%3, %4)%5")
                     .arg(op.requestedBy.isEmpty() ? QStringLiteral("someone") : op.requestedBy, pastTense(op), op.id,
                         e.detail, op.reason.isEmpty() ? QString() : QStringLiteral(": ") + op.reason);
        out << e;
    }
    for (const statuspage::IncidentUpdate &u : incident.updates) {
        Entry e;
        e.atMs = u.createdAt;
        e.kind = Entry::Kind::StatusUpdate;
        e.detail = u.status;
        e.text = QStringLiteral("Status page: %1 - %2").arg(statuspage::inWords(u.status), u.body);
        out << e;
    }
    std::stable_sort(out.begin(), out.end(), [](const Entry &a, const Entry &b) { return a.atMs < b.atMs; });
    return out;
}

QString IncidentTimeline::toMarkdown(const QList<Entry> &entries, const QString &title)
{
    QString md
        = QStringLiteral("# %1\n\nTimes are UTC.\n\n| Time | What | Detail |\n|---|---|---|\n").arg(plain(title));
    for (const Entry &e : entries)
        md += QStringLiteral("| %1 | %2 | %3 |\n")
                  .arg(QDateTime::fromMSecsSinceEpoch(e.atMs, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")),
                      kindName(e.kind), plain(e.text).replace(u'|', QStringLiteral("\\|")));
    return md;
}

QByteArray IncidentTimeline::toJson(const QList<Entry> &entries, const QString &title)
{
    QJsonArray list;
    for (const Entry &e : entries)
        list.append(QJsonObject {
            { QStringLiteral("at"), QDateTime::fromMSecsSinceEpoch(e.atMs, Qt::UTC).toString(Qt::ISODate) },
            { QStringLiteral("kind"), kindName(e.kind) }, { QStringLiteral("text"), e.text },
            { QStringLiteral("actor"), e.actor }, { QStringLiteral("region"), e.region },
            { QStringLiteral("detail"), e.detail } });
    return QJsonDocument(QJsonObject { { QStringLiteral("title"), title }, { QStringLiteral("entries"), list } })
        .toJson(QJsonDocument::Indented);
}

QString IncidentTimeline::postmortemDraft(const QList<Entry> &entries, const statuspage::Incident &incident)
{
    const Entry *firstTrouble = nullptr;
    const Entry *lastRecovery = nullptr;
    QStringList regions;
    for (const Entry &e : entries) {
        if (e.kind != Entry::Kind::Verdict)
            continue;
        if (e.detail == QLatin1String("degraded") || e.detail == QLatin1String("down")) {
            if (!firstTrouble)
                firstTrouble = &e;
            if (!regions.contains(e.region))
                regions << e.region;
        } else if (e.detail == QLatin1String("healthy") && firstTrouble) {
            lastRecovery = &e;
        }
    }
    const qint64 start = firstTrouble ? firstTrouble->atMs : incident.createdAt;
    const QString date = QDateTime::fromMSecsSinceEpoch(start, Qt::UTC).toString(QStringLiteral("MMMM d, yyyy"));
    const QString where
        = regions.isEmpty() ? QString() : QStringLiteral(" in %1").arg(regions.join(QLatin1String(", ")));

    QString md = QStringLiteral("## Summary\n\nOn %1, we experienced an incident causing increased build failures%2.")
                     .arg(date, where);
    if (lastRecovery)
        md += QStringLiteral(" Build success rates returned to normal as of %1 UTC").arg(hhmm(lastRecovery->atMs));
    if (incident.resolvedAt > 0)
        md += QStringLiteral("%1 we formally closed the incident at %2 UTC after a period of extended monitoring.")
                  .arg(lastRecovery ? QStringLiteral(", and") : QStringLiteral(" After a period of monitoring,"),
                      hhmm(incident.resolvedAt));
    else if (lastRecovery)
        md += u'.';
    md += QStringLiteral("\n\n## What happened\n\n");
    bool any = false;
    for (const Entry &e : entries)
        if (e.kind == Entry::Kind::Verdict) {
            md += QStringLiteral("- %1 UTC: %2\n").arg(hhmm(e.atMs), plain(e.text));
            any = true;
        }
    if (!any)
        md += QStringLiteral("- (describe the cause)\n");
    md += QStringLiteral("\n## Our response and mitigation\n\n");
    any = false;
    for (const Entry &e : entries)
        if (e.kind == Entry::Kind::Operation) {
            md += QStringLiteral("- %1 UTC: %2\n").arg(hhmm(e.atMs), plain(e.text));
            any = true;
        }
    for (const Entry &e : entries)
        if (e.kind == Entry::Kind::StatusUpdate) {
            md += QStringLiteral("- %1 UTC: status page updated (%2)\n")
                      .arg(hhmm(e.atMs), statuspage::inWords(e.detail));
            any = true;
        }
    if (!any)
        md += QStringLiteral("- (what was done)\n");
    md += QStringLiteral("\n## Resolution\n\n");
    if (lastRecovery)
        md += QStringLiteral("- Recovery (%1 UTC): %2\n").arg(hhmm(lastRecovery->atMs), plain(lastRecovery->text));
    if (incident.resolvedAt > 0)
        md += QStringLiteral("- Incident closed (%1 UTC): after an extended period of monitoring to ensure all systems "
                             "remained stable, we formally closed the incident.\n")
                  .arg(hhmm(incident.resolvedAt));
    if (!lastRecovery && incident.resolvedAt <= 0)
        md += QStringLiteral("- (not resolved yet)\n");
    md += QStringLiteral("\n## What was affected\n\n");
    QStringList affected;
    for (const statuspage::Component &c : incident.components)
        affected << plain(c.name);
    if (!regions.isEmpty())
        affected << QStringLiteral("builder workers in %1").arg(regions.join(QLatin1String(", ")));
    md += affected.isEmpty() ? QStringLiteral("- (components)\n")
                             : QStringLiteral("- ") + affected.join(QStringLiteral("\n- ")) + u'\n';
    md += QStringLiteral("\nWe apologize for the disruption this caused.\n");
    return md;
}

} // namespace fleet
