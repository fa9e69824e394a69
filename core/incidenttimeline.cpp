#include "incidenttimeline.h"

#include "actioncontroller.h"
#include "alertwatch.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "healthmonitor.h"
#include "mitigationsilences.h"
#include "statustemplates.h"

#include <QDateTime>
#include <QHash>
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
    case IncidentTimeline::Entry::Kind::Alert:
        return QStringLiteral("alert");
    case IncidentTimeline::Entry::Kind::Silence:
        return QStringLiteral("silence");
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
    // Made while the session is being built: its Alertmanager, if any, comes later (alertWatchChanged).
    connect(session, &FleetSession::alertWatchChanged, this, &IncidentTimeline::followAlerts);
}

void IncidentTimeline::followAlerts()
{
    m_firing.clear(); // another Alertmanager: what it says first is news
    if (AlertWatch *watch = m_session->alertWatch()) {
        connect(watch, &AlertWatch::changed, this, [this, watch] {
            if (watch->missedPolls() == 0) // a failed poll says nothing about the alerts
                recordAlerts(watch->alerts(), watch->lastSuccessMs());
        });
    }
}

void IncidentTimeline::recordAlerts(const QList<AmAlert> &alerts, qint64 nowMs)
{
    auto entry = [](const AmAlert &a, qint64 atMs, const QString &what) {
        Entry e;
        e.atMs = atMs;
        e.kind = Entry::Kind::Alert;
        e.region = a.labels.value(QStringLiteral("region"));
        e.detail = what;
        e.text = e.region.isEmpty() ? QStringLiteral("Alert %1 %2").arg(a.name(), what)
                                    : QStringLiteral("Alert %1 %2 in %3").arg(a.name(), what, e.region);
        const QString summary = a.annotations.value(QStringLiteral("summary"));
        if (!summary.isEmpty() && what == QLatin1String("firing"))
            e.text += QStringLiteral(": ") + summary;
        return e;
    };
    QHash<QString, AmAlert> now;
    for (const AmAlert &a : alerts) {
        now.insert(a.fingerprint, a);
        if (!m_firing.contains(a.fingerprint))
            m_alerts << entry(a, a.startsAt > 0 ? a.startsAt : nowMs, QStringLiteral("firing"));
    }
    for (auto it = m_firing.cbegin(); it != m_firing.cend(); ++it)
        if (!now.contains(it.key()))
            m_alerts << entry(it.value(), nowMs, QStringLiteral("resolved"));
    m_firing = std::move(now);
    if (m_alerts.size() > kMaxVerdicts)
        m_alerts.remove(0, m_alerts.size() - kMaxVerdicts);
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

QList<IncidentTimeline::Entry> IncidentTimeline::entries(const status::Incident &incident, qint64 fromMs) const
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
    for (const Entry &e : m_alerts)
        if (e.atMs >= fromMs)
            out << e;
    if (const MitigationSilences *silences = m_session->silences()) {
        for (const MitigationSilences::Silence &s : silences->silences()) {
            Entry e;
            e.kind = Entry::Kind::Silence;
            e.region = s.region;
            e.actor = s.createdBy;
            const QString what = QStringLiteral("%1%2%3").arg(s.operation.isEmpty() ? QString() : s.operation + u' ',
                s.action, s.reason.isEmpty() ? QString() : QStringLiteral(": ") + s.reason);
            if (s.createdAtMs > 0 && s.createdAtMs >= fromMs) {
                e.atMs = s.createdAtMs;
                e.detail = QStringLiteral("created");
                e.text = QStringLiteral("%1 silenced the alerts of %2 until %3 UTC (%4)")
                             .arg(s.createdBy, s.region, hhmm(s.endsAtMs), what);
                out << e;
            }
            if (s.endedAtMs > 0 && s.endedAtMs >= fromMs
                && (s.state == MitigationSilences::State::Expired || s.state == MitigationSilences::State::Ended)) {
                e.atMs = s.endedAtMs;
                e.detail = MitigationSilences::describe(s.state);
                e.text = QStringLiteral("Silence of the alerts of %1 %2 (%3)").arg(s.region, e.detail, s.message);
                out << e;
            }
        }
    }
    for (const status::IncidentUpdate &u : incident.updates) {
        Entry e;
        e.atMs = u.createdAt;
        e.kind = Entry::Kind::StatusUpdate;
        e.detail = u.status;
        e.text = QStringLiteral("Status page: %1 - %2").arg(status::inWords(u.status), u.body);
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

QString IncidentTimeline::postmortemDraft(const QList<Entry> &entries, const status::Incident &incident)
{
    // Each region's time in trouble (degraded or down until healthy again). Affected are the regions in trouble for
    // at least kAffectedMs in all: a blip of a minute is not what customers lived through.
    struct Trouble
    {
        qint64 first = 0; // when it first turned degraded or down
        qint64 openSince = 0; // in trouble now, since; 0 when healthy
        qint64 totalMs = 0;
        qint64 recovered = 0; // the last return to healthy
        const Entry *firstEntry = nullptr;
        const Entry *worstEntry = nullptr; // the first "down", if it went down
        const Entry *recoveryEntry = nullptr;
    };
    QList<QString> order;
    QHash<QString, Trouble> troubles;
    qint64 lastMs = incident.resolvedAt;
    for (const Entry &e : entries) {
        lastMs = std::max(lastMs, e.atMs);
        if (e.kind != Entry::Kind::Verdict)
            continue;
        Trouble &t = troubles[e.region];
        const bool trouble = e.detail == QLatin1String("degraded") || e.detail == QLatin1String("down");
        if (trouble) {
            if (!t.first) {
                t.first = e.atMs;
                t.firstEntry = &e;
                order << e.region;
            }
            if (!t.openSince)
                t.openSince = e.atMs;
            if (e.detail == QLatin1String("down") && !t.worstEntry)
                t.worstEntry = &e;
        } else if (t.openSince) {
            t.totalMs += e.atMs - t.openSince;
            t.openSince = 0;
            t.recovered = e.atMs;
            t.recoveryEntry = &e;
        }
    }
    QStringList affected;
    for (const QString &region : std::as_const(order)) {
        const Trouble &t = troubles[region];
        if (t.totalMs + (t.openSince ? lastMs - t.openSince : 0) >= kAffectedMs)
            affected << region;
    }
    if (affected.isEmpty())
        affected = order; // nothing lasted: say what there was
    qint64 start = 0;
    qint64 recovery = 0; // when the last affected region was healthy again and stayed so; 0 while one is not
    bool allRecovered = !affected.isEmpty();
    for (const QString &region : std::as_const(affected)) {
        const Trouble &t = troubles[region];
        start = start ? std::min(start, t.first) : t.first;
        allRecovered = allRecovered && !t.openSince && t.recovered;
        recovery = std::max(recovery, t.recovered);
    }
    if (!allRecovered)
        recovery = 0;
    if (!start)
        start = incident.createdAt;
    const QString date = QDateTime::fromMSecsSinceEpoch(start, Qt::UTC).toString(QStringLiteral("MMMM d, yyyy"));
    const QString where
        = affected.isEmpty() ? QString() : QStringLiteral(" in %1").arg(statustemplates::listInWords(affected));

    QString md = QStringLiteral("## Summary\n\nOn %1, we experienced an incident causing increased build failures%2.")
                     .arg(date, where);
    if (recovery)
        md += QStringLiteral(" Build success rates returned to normal as of %1 UTC").arg(hhmm(recovery));
    if (incident.resolvedAt > 0)
        md += QStringLiteral("%1 we formally closed the incident at %2 UTC after a period of extended monitoring.")
                  .arg(recovery ? QStringLiteral(", and") : QStringLiteral(" After a period of monitoring,"),
                      hhmm(incident.resolvedAt));
    else if (recovery)
        md += u'.';
    // What happened: per affected region, when it began, when it got worst, when it recovered (the full record is
    // the timeline's export).
    md += QStringLiteral("\n\n## What happened\n\n");
    QList<const Entry *> moments;
    for (const QString &region : std::as_const(affected)) {
        const Trouble &t = troubles[region];
        for (const Entry *e : { t.firstEntry, t.worstEntry, allRecovered ? t.recoveryEntry : nullptr }) {
            if (e)
                moments << e;
        }
    }
    std::stable_sort(moments.begin(), moments.end(), [](const Entry *a, const Entry *b) { return a->atMs < b->atMs; });
    for (const Entry *e : std::as_const(moments))
        md += QStringLiteral("- %1 UTC: %2\n").arg(hhmm(e->atMs), plain(e->text));
    if (moments.isEmpty())
        md += QStringLiteral("- (describe the cause)\n");
    md += QStringLiteral("\n## Our response and mitigation\n\n");
    bool any = false;
    for (const Entry &e : entries) {
        if (e.kind == Entry::Kind::Operation || e.kind == Entry::Kind::Silence) {
            md += QStringLiteral("- %1 UTC: %2\n").arg(hhmm(e.atMs), plain(e.text));
            any = true;
        } else if (e.kind == Entry::Kind::StatusUpdate) {
            md += QStringLiteral("- %1 UTC: status page updated (%2)\n").arg(hhmm(e.atMs), status::inWords(e.detail));
            any = true;
        }
    }
    if (!any)
        md += QStringLiteral("- (what was done)\n");
    md += QStringLiteral("\n## Resolution\n\n");
    if (recovery)
        md += QStringLiteral("- Recovery (%1 UTC): %2 healthy again and stayed so.\n")
                  .arg(hhmm(recovery), statustemplates::listInWords(affected));
    if (incident.resolvedAt > 0)
        md += QStringLiteral("- Incident closed (%1 UTC): after an extended period of monitoring to ensure all systems "
                             "remained stable, we formally closed the incident.\n")
                  .arg(hhmm(incident.resolvedAt));
    if (!recovery && incident.resolvedAt <= 0)
        md += QStringLiteral("- (not resolved yet)\n");
    md += QStringLiteral("\n## What was affected\n\n");
    QStringList parts;
    for (const status::Component &c : incident.components)
        parts << plain(c.name);
    if (!affected.isEmpty())
        parts << QStringLiteral("builder workers in %1").arg(statustemplates::listInWords(affected));
    md += parts.isEmpty() ? QStringLiteral("- (components)\n")
                          : QStringLiteral("- ") + parts.join(QStringLiteral("\n- ")) + u'\n';
    md += QStringLiteral("\nWe apologize for the disruption this caused.\n");
    return md;
}

} // namespace fleet
