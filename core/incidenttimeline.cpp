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

} // namespace

QString IncidentTimeline::kindName(IncidentTimeline::Entry::Kind kind)
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
    case IncidentTimeline::Entry::Kind::Metric:
        return QStringLiteral("metric");
    }
    return {};
}

namespace {

Verdict verdictOf(const QString &name)
{
    for (const Verdict v : { Verdict::Healthy, Verdict::Degraded, Verdict::Down })
        if (wireName(v) == name)
            return v;
    return Verdict::NoData;
}

QString operationText(const Operation &op)
{
    return QStringLiteral("%1 %2 (%3, %4)%5")
        .arg(op.requestedBy.isEmpty() ? QStringLiteral("someone") : op.requestedBy, pastTense(op), op.id,
            wireName(op.state).toString(), op.reason.isEmpty() ? QString() : QStringLiteral(": ") + op.reason);
}

IncidentTimeline::Entry operationEntry(const Operation &op)
{
    IncidentTimeline::Entry e;
    e.atMs = op.createdAt;
    e.kind = IncidentTimeline::Entry::Kind::Operation;
    e.actor = op.requestedBy;
    e.region = op.region;
    e.regionId = op.region;
    e.detail = wireName(op.state).toString();
    e.type = wireName(op.type).toString();
    e.key = op.id;
    e.text = operationText(op);
    return e;
}

QString alertText(const QString &name, const QString &what, const QString &region, const QString &summary)
{
    QString text = region.isEmpty() ? QStringLiteral("Alert %1 %2").arg(name, what)
                                    : QStringLiteral("Alert %1 %2 in %3").arg(name, what, region);
    if (!summary.isEmpty() && what == QLatin1String("firing"))
        text += QStringLiteral(": ") + summary;
    return text;
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
        e.regionId = e.region;
        e.detail = what;
        e.text = alertText(a.name(), what, e.region, a.annotations.value(QStringLiteral("summary")));
        return e;
    };
    QHash<QString, AmAlert> now;
    for (const AmAlert &a : alerts) {
        now.insert(a.fingerprint, a);
        if (!m_firing.contains(a.fingerprint)) {
            const qint64 at = a.startsAt > 0 ? a.startsAt : nowMs;
            m_alerts << entry(a, at, QStringLiteral("firing"));
            Q_EMIT alertRecorded(a, QStringLiteral("firing"), at);
        }
    }
    for (auto it = m_firing.cbegin(); it != m_firing.cend(); ++it) {
        if (!now.contains(it.key())) {
            m_alerts << entry(it.value(), nowMs, QStringLiteral("resolved"));
            Q_EMIT alertRecorded(it.value(), QStringLiteral("resolved"), nowMs);
        }
    }
    m_firing = std::move(now);
    if (m_alerts.size() > kMaxVerdicts)
        m_alerts.remove(0, m_alerts.size() - kMaxVerdicts);
}

void IncidentTimeline::clear()
{
    m_verdicts.clear();
    m_alerts.clear();
    m_firing.clear();
    m_recordedOperations.clear();
    m_recordedUpdates.clear();
    m_recordedUpdateIncident.clear();
}

void IncidentTimeline::recordVerdict(const VerdictChange &change)
{
    if (m_session->isReplaying())
        return; // a replay shows the verdicts as they were recorded, not as they are judged again
    Entry e;
    e.atMs = change.atSecond * 1000;
    e.kind = Entry::Kind::Verdict;
    e.text = change.text();
    e.region = change.regionName.isEmpty() ? change.region : change.regionName;
    e.regionId = change.region;
    e.detail = wireName(change.to);
    m_verdicts << e;
    if (m_verdicts.size() > kMaxVerdicts)
        m_verdicts.remove(0, m_verdicts.size() - kMaxVerdicts);
}

IncidentTimeline::Entry IncidentTimeline::entryOf(const bundle::Event &event)
{
    Entry e;
    e.atMs = event.atMs;
    switch (event.kind) {
    case bundle::Event::Kind::Verdict: {
        VerdictChange change;
        change.region = event.region;
        change.regionName = event.regionName;
        change.from = verdictOf(event.from);
        change.to = verdictOf(event.to);
        change.reason = event.reason;
        change.atSecond = event.atMs / 1000;
        e.kind = Entry::Kind::Verdict;
        e.text = change.text();
        e.region = event.regionName.isEmpty() ? event.region : event.regionName;
        e.regionId = event.region;
        e.detail = wireName(change.to);
        break;
    }
    case bundle::Event::Kind::Operation:
        e = operationEntry(event.operation);
        break;
    case bundle::Event::Kind::StatusUpdate:
        e.kind = Entry::Kind::StatusUpdate;
        e.detail = event.status;
        e.key = event.updateId;
        e.text = QStringLiteral("Status page: %1 - %2").arg(status::inWords(event.status), event.body);
        break;
    case bundle::Event::Kind::Alert:
        e.kind = Entry::Kind::Alert;
        e.region = event.region;
        e.regionId = event.region;
        e.detail = event.to;
        e.key = event.fingerprint;
        e.text = alertText(event.alertName, event.to, event.region, event.body);
        break;
    }
    return e;
}

QList<IncidentTimeline::Entry> IncidentTimeline::entriesOf(const QList<bundle::Event> &events)
{
    // An operation recorded in several states is shown once, as it last stood (as the live timeline shows it).
    QList<Entry> out;
    QHash<QString, qsizetype> operations;
    for (const bundle::Event &event : events) {
        const Entry e = entryOf(event);
        if (e.kind == Entry::Kind::Operation) {
            if (const auto it = operations.constFind(e.key); it != operations.cend()) {
                out[*it] = e;
                continue;
            }
            operations.insert(e.key, out.size());
        }
        out << e;
    }
    std::stable_sort(out.begin(), out.end(), [](const Entry &a, const Entry &b) { return a.atMs < b.atMs; });
    return out;
}

void IncidentTimeline::restore(const QList<bundle::Event> &events)
{
    // Each entry once: what this run saw already, or an earlier event of the same batch, is not added again. The
    // lists' keys are gathered once (a restart restores up to 20,000 events into lists of up to 5,000).
    auto same
        = [](const Entry &e) { return QStringLiteral("%1|%2|%3|%4").arg(e.atMs).arg(e.regionId, e.detail, e.key); };
    auto keysOf = [&same](const QList<Entry> &list) {
        QSet<QString> keys;
        for (const Entry &e : list)
            keys.insert(same(e));
        return keys;
    };
    QSet<QString> verdicts = keysOf(m_verdicts);
    QSet<QString> alerts = keysOf(m_alerts);
    QSet<QString> updates = keysOf(m_recordedUpdates);
    auto addOnce = [&same](QList<Entry> &list, QSet<QString> &keys, const Entry &e) {
        const QString key = same(e);
        if (!keys.contains(key)) {
            keys.insert(key);
            list << e;
        }
    };
    for (const bundle::Event &event : events) {
        const Entry e = entryOf(event);
        switch (e.kind) {
        case Entry::Kind::Verdict:
            addOnce(m_verdicts, verdicts, e);
            break;
        case Entry::Kind::Alert:
            addOnce(m_alerts, alerts, e);
            break;
        case Entry::Kind::Operation:
            m_recordedOperations.insert(e.key, e); // events come oldest first: the last state stays
            break;
        case Entry::Kind::StatusUpdate:
            addOnce(m_recordedUpdates, updates, e);
            m_recordedUpdateIncident.insert(e.key, event.incidentId);
            break;
        case Entry::Kind::Silence:
        case Entry::Kind::Metric:
            break;
        }
    }
    const auto byTime = [](const Entry &a, const Entry &b) { return a.atMs < b.atMs; };
    std::stable_sort(m_verdicts.begin(), m_verdicts.end(), byTime);
    std::stable_sort(m_alerts.begin(), m_alerts.end(), byTime);
    for (QList<Entry> *list : { &m_verdicts, &m_alerts, &m_recordedUpdates })
        if (list->size() > kMaxVerdicts)
            list->remove(0, list->size() - kMaxVerdicts);
}

QList<IncidentTimeline::Entry> IncidentTimeline::entries(const status::Incident &incident, qint64 fromMs) const
{
    QList<Entry> out;
    for (const Entry &e : m_verdicts)
        if (e.atMs >= fromMs)
            out << e;
    const FleetStore *store = m_session->store();
    for (const Operation &op : store->operations())
        if (op.createdAt >= fromMs)
            out << operationEntry(op);
    // Recorded by an earlier run, and no longer kept by the fleet.
    for (const Entry &e : m_recordedOperations)
        if (e.atMs >= fromMs && store->operationRow(e.key) < 0)
            out << e;
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
    QSet<QString> updates;
    for (const status::IncidentUpdate &u : incident.updates) {
        Entry e;
        e.atMs = u.createdAt;
        e.kind = Entry::Kind::StatusUpdate;
        e.detail = u.status;
        e.key = u.id;
        e.text = QStringLiteral("Status page: %1 - %2").arg(status::inWords(u.status), u.body);
        updates.insert(u.id);
        out << e;
    }
    // Updates an earlier run recorded that this answer of the page does not carry (none is configured now, or the
    // page's answer is older): those of this incident, or every one when no incident is chosen.
    for (const Entry &e : m_recordedUpdates)
        if (e.atMs >= fromMs && !updates.contains(e.key)
            && (incident.id.isEmpty() || m_recordedUpdateIncident.value(e.key) == incident.id))
            out << e;
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
    // The figures, when the entries carry them (IncidentMetrics::milestones): stamped, not typed.
    QStringList timing;
    for (const Entry &e : entries)
        if (e.kind == Entry::Kind::Metric)
            timing << QStringLiteral("- %1 UTC: %2\n").arg(hhmm(e.atMs), plain(e.text));
    if (!timing.isEmpty())
        md += QStringLiteral("\n## Detection, acknowledgement and mitigation\n\n") + timing.join(QString());
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
