#include "statuspagesim.h"

#include "isotime.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>
#include <cmath>

namespace fleet::sim {

namespace {

const QStringList &incidentStatuses()
{
    static const QStringList s { QStringLiteral("investigating"), QStringLiteral("identified"),
        QStringLiteral("monitoring"), QStringLiteral("resolved") };
    return s;
}
// In order of severity: the page's banner and the computed impact follow the worst.
const QStringList &componentStatuses()
{
    static const QStringList s { QStringLiteral("operational"), QStringLiteral("under_maintenance"),
        QStringLiteral("degraded_performance"), QStringLiteral("partial_outage"), QStringLiteral("major_outage") };
    return s;
}
const QStringList &impacts()
{
    static const QStringList s { QStringLiteral("none"), QStringLiteral("maintenance"), QStringLiteral("minor"),
        QStringLiteral("major"), QStringLiteral("critical") };
    return s;
}

StatusPageSim::Reply json(int status, const QJsonValue &value)
{
    StatusPageSim::Reply r;
    r.status = status;
    r.body = value.isArray() ? QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact)
                             : QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact);
    return r;
}

// Statuspage words errors in two shapes; both are served so that clients read both.
StatusPageSim::Reply message(int status, const QString &text)
{
    return json(status, QJsonObject { { QStringLiteral("message"), text } });
}
StatusPageSim::Reply error(int status, const QJsonValue &text)
{
    return json(status, QJsonObject { { QStringLiteral("error"), text } });
}

QString html(const QString &text)
{
    return text.toHtmlEscaped();
}

QString words(QString wire)
{
    wire.replace(u'_', u' ');
    if (!wire.isEmpty())
        wire[0] = wire[0].toUpper();
    return wire;
}

} // namespace

StatusPageSim::StatusPageSim(Options options, std::function<qint64()> nowMs)
    : m_options(std::move(options))
    , m_now(std::move(nowMs))
{
    m_clock.start();
    m_tokens = m_options.burst;
    int position = 1;
    for (const QString &name : std::as_const(m_options.components)) {
        Component c;
        c.id = newId();
        c.name = name;
        c.position = position++;
        c.createdMs = c.updatedMs = m_now();
        m_components.push_back(c);
    }
}

QString StatusPageSim::newId()
{
    // 12 characters of [a-z0-9], like Statuspage's ids; deterministic (xorshift) so runs compare.
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    QString id;
    for (int i = 0; i < 12; ++i) {
        m_idState ^= m_idState << 13;
        m_idState ^= m_idState >> 7;
        m_idState ^= m_idState << 17;
        id += QLatin1Char(alphabet[m_idState % 36]);
    }
    return id;
}

QString StatusPageSim::iso(qint64 ms) const
{
    return formatIsoUtc(ms);
}

bool StatusPageSim::admit()
{
    const qint64 now = m_clock.elapsed();
    m_tokens = std::min<double>(
        m_options.burst, m_tokens + double(now - m_tokensAtMs) / 1000.0 * m_options.requestsPerSecond);
    m_tokensAtMs = now;
    if (m_tokens < 1.0)
        return false;
    m_tokens -= 1.0;
    return true;
}

StatusPageSim::Incident *StatusPageSim::findIncident(const QString &id)
{
    auto it = std::find_if(m_incidents.begin(), m_incidents.end(), [&](const Incident &i) { return i.id == id; });
    return it == m_incidents.end() ? nullptr : &*it;
}

const StatusPageSim::Component *StatusPageSim::findComponent(const QString &id) const
{
    auto it = std::find_if(m_components.begin(), m_components.end(), [&](const Component &c) { return c.id == id; });
    return it == m_components.end() ? nullptr : &*it;
}

StatusPageSim::Component *StatusPageSim::findComponent(const QString &id)
{
    auto it = std::find_if(m_components.begin(), m_components.end(), [&](const Component &c) { return c.id == id; });
    return it == m_components.end() ? nullptr : &*it;
}

StatusPageSim::Reply StatusPageSim::handle(const QByteArray &method, const QStringList &segments,
    const QUrlQuery &query, const QByteArray &authorization, const QByteArray &body)
{
    const QByteArray key = authorization.startsWith("OAuth ") ? authorization.mid(6).trimmed() : QByteArray();
    if (key.isEmpty() || key != m_options.apiKey.toUtf8())
        return message(401, QStringLiteral("Could not authenticate"));
    if (!admit()) {
        ++m_rateLimited;
        Reply r = error(420, QStringLiteral("Rate limit exceeded. Retry in 1 second."));
        r.headers.emplace_back("Retry-After", "1");
        return r;
    }
    if (segments.size() < 3 || segments[0] != QLatin1String("pages"))
        return error(404, QStringLiteral("The requested resource could not be found."));
    if (segments[1] != m_options.pageId)
        return message(404, QStringLiteral("Page %1 could not be found.").arg(segments[1]));

    QJsonObject in;
    if (method != "GET" && !body.isEmpty()) {
        QJsonParseError parse {};
        const QJsonDocument doc = QJsonDocument::fromJson(body, &parse);
        if (parse.error != QJsonParseError::NoError || !doc.isObject())
            return error(400, QStringLiteral("The request body is not a JSON object: %1").arg(parse.errorString()));
        in = doc.object();
    }
    const QString what = segments[2];
    if (what == QLatin1String("components") && segments.size() == 3 && method == "GET")
        return components(query);
    if (what != QLatin1String("incidents"))
        return error(404, QStringLiteral("The requested resource could not be found."));
    if (segments.size() == 3) {
        if (method == "GET")
            return incidents(query, false);
        if (method == "POST")
            return createIncident(in.value(QStringLiteral("incident")).toObject());
        return error(405, QStringLiteral("Method not allowed"));
    }
    if (segments.size() == 4 && segments[3] == QLatin1String("unresolved") && method == "GET")
        return incidents(query, true);
    Incident *incident = findIncident(segments[3]);
    if (!incident)
        return message(404, QStringLiteral("Incident %1 could not be found.").arg(segments[3]));
    if (segments.size() == 4) {
        if (method == "GET")
            return json(200, incidentJson(*incident));
        if (method == "PATCH" || method == "PUT")
            return updateIncident(*incident, in.value(QStringLiteral("incident")).toObject());
        return error(405, QStringLiteral("Method not allowed"));
    }
    if (segments[4] == QLatin1String("postmortem")) {
        if (segments.size() == 5 && method == "PUT")
            return putPostmortem(*incident, in.value(QStringLiteral("postmortem")).toObject());
        if (segments.size() == 5 && method == "GET")
            return getPostmortem(*incident);
        if (segments.size() == 6 && segments[5] == QLatin1String("publish") && method == "PUT")
            return publishPostmortem(*incident, in.value(QStringLiteral("postmortem")).toObject());
    }
    return error(404, QStringLiteral("The requested resource could not be found."));
}

StatusPageSim::Reply StatusPageSim::components(const QUrlQuery &query) const
{
    const int perPage = std::clamp(query.queryItemValue(QStringLiteral("per_page")).toInt(), 0, 100);
    const int page = std::max(1, query.queryItemValue(QStringLiteral("page")).toInt());
    const int size = perPage > 0 ? perPage : 100;
    QJsonArray out;
    for (int i = (page - 1) * size; i < int(m_components.size()) && out.size() < size; ++i)
        out.append(componentJson(m_components[std::size_t(i)]));
    return json(200, out);
}

StatusPageSim::Reply StatusPageSim::incidents(const QUrlQuery &query, bool unresolvedOnly) const
{
    const QString q = query.queryItemValue(QStringLiteral("q"), QUrl::FullyDecoded);
    // The list takes `limit`; the unresolved list, as in the API, `per_page`.
    const QString sizeParam = unresolvedOnly ? QStringLiteral("per_page") : QStringLiteral("limit");
    const int limit = std::clamp(query.hasQueryItem(sizeParam) ? query.queryItemValue(sizeParam).toInt() : 100, 1, 100);
    const int page = std::max(1, query.queryItemValue(QStringLiteral("page")).toInt());
    QJsonArray out;
    int skipped = 0;
    for (auto it = m_incidents.rbegin(); it != m_incidents.rend() && out.size() < limit; ++it) {
        if (unresolvedOnly && it->status == QLatin1String("resolved"))
            continue;
        if (!q.isEmpty()) {
            bool hit = it->name.contains(q, Qt::CaseInsensitive) || it->status == q
                || it->postmortemBody.contains(q, Qt::CaseInsensitive);
            for (const Update &u : it->updates)
                hit = hit || u.body.contains(q, Qt::CaseInsensitive);
            if (!hit)
                continue;
        }
        if (skipped++ < (page - 1) * limit)
            continue;
        out.append(incidentJson(*it));
    }
    return json(200, out);
}

std::optional<StatusPageSim::Reply> StatusPageSim::apply(Incident &incident, const QJsonObject &in, bool creating)
{
    QJsonArray problems;
    const QString name = in.value(QStringLiteral("name")).toString();
    if (creating && name.trimmed().isEmpty())
        problems.append(QStringLiteral("Name can't be blank"));
    if (name.size() > 255)
        problems.append(QStringLiteral("Name is too long (maximum is 255 characters)"));
    const QString body = in.value(QStringLiteral("body")).toString();
    if (body.size() > 25000)
        problems.append(QStringLiteral("Body is too long (maximum is 25000 characters)"));
    const QString status = in.value(QStringLiteral("status")).toString();
    if (in.contains(QStringLiteral("status")) && !incidentStatuses().contains(status))
        problems.append(QStringLiteral("Status is not included in the list"));
    const QString impact = in.value(QStringLiteral("impact_override")).toString();
    if (in.contains(QStringLiteral("impact_override")) && !impacts().contains(impact))
        problems.append(QStringLiteral("Impact override is not included in the list"));
    const QJsonValue metadata = in.value(QStringLiteral("metadata"));
    if (!metadata.isUndefined() && !metadata.isNull()) {
        if (!metadata.isObject())
            problems.append(QStringLiteral("Metadata must be an object"));
        else
            for (const QJsonValue &v : metadata.toObject())
                if (!v.isObject())
                    problems.append(QStringLiteral("Metadata top level values must be objects"));
    }
    const QJsonObject requested = in.value(QStringLiteral("components")).toObject();
    for (auto it = requested.begin(); it != requested.end(); ++it) {
        if (!findComponent(it.key()))
            problems.append(QStringLiteral("Component %1 does not exist").arg(it.key()));
        else if (!componentStatuses().contains(it.value().toString()))
            problems.append(
                QStringLiteral("Component status %1 is not included in the list").arg(it.value().toString()));
    }
    if (!problems.isEmpty())
        return error(422, problems);

    const qint64 now = m_now();
    if (!name.isEmpty())
        incident.name = name;
    const QString previous = incident.status;
    if (!status.isEmpty())
        incident.status = status;
    else if (creating)
        incident.status = QStringLiteral("investigating");
    if (!impact.isEmpty())
        incident.impactOverride = impact;
    if (metadata.isObject()) {
        const QJsonObject more = metadata.toObject();
        for (auto it = more.begin(); it != more.end(); ++it)
            incident.metadata.insert(it.key(), it.value());
    }
    QJsonArray affected;
    for (auto it = requested.begin(); it != requested.end(); ++it) {
        Component *c = findComponent(it.key());
        if (!incident.componentIds.contains(c->id))
            incident.componentIds << c->id;
        if (c->status != it.value().toString()) {
            affected.append(QJsonObject { { QStringLiteral("code"), c->id }, { QStringLiteral("name"), c->name },
                { QStringLiteral("old_status"), c->status }, { QStringLiteral("new_status"), it.value().toString() } });
            c->status = it.value().toString();
            c->updatedMs = now;
        }
    }
    const QJsonArray ids = in.value(QStringLiteral("component_ids")).toArray();
    for (const QJsonValue &id : ids)
        if (findComponent(id.toString()) && !incident.componentIds.contains(id.toString()))
            incident.componentIds << id.toString();
    // The impact follows the worst affected component unless overridden.
    int worst = 0;
    for (const QString &id : std::as_const(incident.componentIds))
        worst = std::max<int>(worst, int(componentStatuses().indexOf(findComponent(id)->status)));
    static const char *const byStatus[] = { "none", "maintenance", "minor", "major", "critical" };
    incident.impact = incident.impactOverride.isEmpty() ? QString::fromLatin1(byStatus[std::clamp(worst, 0, 4)])
                                                        : incident.impactOverride;
    if (creating || !body.isEmpty() || incident.status != previous || !affected.isEmpty()) {
        Update u;
        u.id = newId();
        u.status = incident.status;
        u.body = body;
        u.atMs = now;
        u.deliverNotifications = in.value(QStringLiteral("deliver_notifications")).toBool(true);
        u.affected = affected;
        incident.updates.push_back(u);
    }
    if (incident.status == QLatin1String("monitoring") && previous != incident.status)
        incident.monitoringMs = now;
    if (incident.status == QLatin1String("resolved") && previous != incident.status)
        incident.resolvedMs = now;
    incident.updatedMs = now;
    ++m_writes;
    return std::nullopt;
}

StatusPageSim::Reply StatusPageSim::createIncident(const QJsonObject &in)
{
    Incident incident;
    incident.id = newId();
    incident.createdMs = m_now();
    if (auto refused = apply(incident, in, true))
        return *refused;
    m_incidents.push_back(incident);
    return json(201, incidentJson(m_incidents.back()));
}

StatusPageSim::Reply StatusPageSim::updateIncident(Incident &incident, const QJsonObject &in)
{
    Incident changed = incident;
    if (auto refused = apply(changed, in, false))
        return *refused;
    incident = changed;
    return json(200, incidentJson(incident));
}

StatusPageSim::Reply StatusPageSim::putPostmortem(Incident &incident, const QJsonObject &in)
{
    if (!in.value(QStringLiteral("body_draft")).isString())
        return error(422, QJsonArray { QStringLiteral("Body draft can't be blank") });
    const QString draft = in.value(QStringLiteral("body_draft")).toString();
    if (draft.size() > 25000)
        return error(422, QJsonArray { QStringLiteral("Body draft is too long (maximum is 25000 characters)") });
    incident.postmortemDraft = draft;
    incident.postmortemDraftMs = m_now();
    ++m_writes;
    return getPostmortem(incident);
}

StatusPageSim::Reply StatusPageSim::publishPostmortem(Incident &incident, const QJsonObject &)
{
    if (incident.postmortemDraft.isEmpty())
        return error(422, QStringLiteral("There is no postmortem draft to publish."));
    incident.postmortemBody = incident.postmortemDraft;
    incident.postmortemPublishedMs = m_now();
    ++m_writes;
    return getPostmortem(incident);
}

StatusPageSim::Reply StatusPageSim::getPostmortem(const Incident &incident) const
{
    QJsonObject o { { QStringLiteral("body_draft"), incident.postmortemDraft },
        { QStringLiteral("body"), incident.postmortemBody }, { QStringLiteral("notify_subscribers"), false },
        { QStringLiteral("notify_twitter"), false }, { QStringLiteral("preview_key"), QString(incident.id + u'p') } };
    if (incident.postmortemDraftMs > 0)
        o.insert(QStringLiteral("body_draft_updated_at"), iso(incident.postmortemDraftMs));
    if (incident.postmortemPublishedMs > 0)
        o.insert(QStringLiteral("published_at"), iso(incident.postmortemPublishedMs));
    return json(200, o);
}

QJsonObject StatusPageSim::componentJson(const Component &c) const
{
    return { { QStringLiteral("id"), c.id }, { QStringLiteral("page_id"), m_options.pageId },
        { QStringLiteral("group_id"), QJsonValue(QJsonValue::Null) },
        { QStringLiteral("created_at"), iso(c.createdMs) }, { QStringLiteral("updated_at"), iso(c.updatedMs) },
        { QStringLiteral("group"), false }, { QStringLiteral("name"), c.name },
        { QStringLiteral("description"), QJsonValue(QJsonValue::Null) }, { QStringLiteral("position"), c.position },
        { QStringLiteral("status"), c.status }, { QStringLiteral("showcase"), true },
        { QStringLiteral("only_show_if_degraded"), false },
        { QStringLiteral("automation_email"), QStringLiteral("component+%1@notifications.statuspage.io").arg(c.id) },
        { QStringLiteral("start_date"),
            QDateTime::fromMSecsSinceEpoch(c.createdMs, Qt::UTC).toString(Qt::ISODate).left(10) } };
}

QJsonObject StatusPageSim::incidentJson(const Incident &i) const
{
    QJsonArray components;
    for (const QString &id : i.componentIds)
        components.append(componentJson(*findComponent(id)));
    QJsonArray updates;
    for (auto it = i.updates.rbegin(); it != i.updates.rend(); ++it) {
        updates.append(QJsonObject { { QStringLiteral("id"), it->id }, { QStringLiteral("incident_id"), i.id },
            { QStringLiteral("status"), it->status }, { QStringLiteral("body"), it->body },
            { QStringLiteral("created_at"), iso(it->atMs) }, { QStringLiteral("updated_at"), iso(it->atMs) },
            { QStringLiteral("display_at"), iso(it->atMs) }, { QStringLiteral("affected_components"), it->affected },
            { QStringLiteral("deliver_notifications"), it->deliverNotifications },
            { QStringLiteral("custom_tweet"), QJsonValue(QJsonValue::Null) },
            { QStringLiteral("tweet_id"), QJsonValue(QJsonValue::Null) } });
    }
    auto optionalTime = [this](qint64 ms) { return ms > 0 ? QJsonValue(iso(ms)) : QJsonValue(QJsonValue::Null); };
    return { { QStringLiteral("id"), i.id }, { QStringLiteral("page_id"), m_options.pageId },
        { QStringLiteral("name"), i.name }, { QStringLiteral("status"), i.status },
        { QStringLiteral("impact"), i.impact },
        { QStringLiteral("impact_override"),
            i.impactOverride.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(i.impactOverride) },
        { QStringLiteral("created_at"), iso(i.createdMs) }, { QStringLiteral("updated_at"), iso(i.updatedMs) },
        { QStringLiteral("monitoring_at"), optionalTime(i.monitoringMs) },
        { QStringLiteral("resolved_at"), optionalTime(i.resolvedMs) },
        { QStringLiteral("shortlink"), QStringLiteral("http://stspg.io/%1").arg(i.id.left(9)) },
        { QStringLiteral("metadata"), i.metadata }, { QStringLiteral("components"), components },
        { QStringLiteral("incident_updates"), updates },
        { QStringLiteral("postmortem_body"),
            i.postmortemBody.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(i.postmortemBody) },
        // The OpenAPI document types this as a boolean (and its example says true); Statuspage sends a time.
        { QStringLiteral("postmortem_published_at"), optionalTime(i.postmortemPublishedMs) },
        { QStringLiteral("postmortem_ignored"), false },
        { QStringLiteral("scheduled_for"), QJsonValue(QJsonValue::Null) },
        { QStringLiteral("scheduled_until"), QJsonValue(QJsonValue::Null) } };
}

QByteArray StatusPageSim::publicPage() const
{
    static const QHash<QString, QString> colour { { QStringLiteral("operational"), QStringLiteral("#2fcc66") },
        { QStringLiteral("under_maintenance"), QStringLiteral("#3498db") },
        { QStringLiteral("degraded_performance"), QStringLiteral("#f1c40f") },
        { QStringLiteral("partial_outage"), QStringLiteral("#e67e22") },
        { QStringLiteral("major_outage"), QStringLiteral("#e74c3c") } };
    auto when = [](qint64 ms) {
        return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("MMM d, yyyy - HH:mm 'UTC'"));
    };
    int worst = 0;
    for (const Component &c : m_components)
        worst = std::max<int>(worst, int(componentStatuses().indexOf(c.status)));
    const bool open = std::any_of(m_incidents.begin(), m_incidents.end(),
        [](const Incident &i) { return i.status != QLatin1String("resolved"); });
    // componentStatuses() order: operational, under maintenance, degraded, partial outage, major outage.
    const QString banner = worst >= 4 ? QStringLiteral("Major outage")
        : worst == 3                  ? QStringLiteral("Partial system outage")
        : worst == 2                  ? QStringLiteral("Degraded performance")
        : open                        ? QStringLiteral("Some systems are affected")
                                      : QStringLiteral("All Systems Operational");
    const QString bannerColour = worst >= 4 ? QStringLiteral("#e74c3c")
        : worst == 3                        ? QStringLiteral("#e67e22")
        : worst == 2 || open                ? QStringLiteral("#f1c40f")
                                            : QStringLiteral("#2fcc66");
    QString out;
    out += QStringLiteral("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>%1 Status</title>"
                          "<style>body{font-family:sans-serif;max-width:860px;margin:2em auto;color:#333;padding:0 1em}"
                          "h1{font-size:1.6em}.banner{color:#fff;padding:1em;border-radius:4px;font-size:1.2em;"
                          "font-weight:bold}.comp{display:flex;justify-content:space-between;padding:.7em 1em;"
                          "border:1px solid #ddd;border-top:none}.comp:first-child{border-top:1px solid #ddd}"
                          ".incident{margin:1.5em 0;border-left:4px solid #ccc;padding-left:1em}"
                          ".upd{margin:.6em 0}.upd b{display:inline-block;min-width:7em}.small{color:#777;"
                          "font-size:.85em}pre{white-space:pre-wrap;font-family:inherit}</style></head><body>")
               .arg(html(m_options.pageName));
    out += QStringLiteral("<h1>%1</h1><div class=\"banner\" style=\"background:%2\">%3</div>")
               .arg(html(m_options.pageName), bannerColour, banner);
    auto incidentHtml = [&](const Incident &i) -> QString {
        QString s
            = QStringLiteral("<div class=\"incident\" style=\"border-color:%1\"><h3>%2</h3>")
                  .arg(i.status == QLatin1String("resolved") ? QStringLiteral("#999") : bannerColour, html(i.name));
        if (!i.postmortemBody.isEmpty())
            s += QStringLiteral(
                "<div class=\"upd\"><b>Postmortem</b><pre>%1</pre><div class=\"small\">Posted %2</div></div>")
                     .arg(html(i.postmortemBody), when(i.postmortemPublishedMs));
        for (auto it = i.updates.rbegin(); it != i.updates.rend(); ++it)
            s += QStringLiteral("<div class=\"upd\"><b>%1</b> - %2<div class=\"small\">Posted %3</div></div>")
                     .arg(words(it->status), html(it->body), when(it->atMs));
        QStringList affected;
        for (const QString &id : i.componentIds)
            affected << html(findComponent(id)->name);
        if (!affected.isEmpty())
            s += QStringLiteral("<div class=\"small\">This incident affected: %1.</div>")
                     .arg(affected.join(QLatin1String(", ")));
        return s + QStringLiteral("</div>");
    };
    for (const Incident &i : m_incidents)
        if (i.status != QLatin1String("resolved"))
            out += incidentHtml(i);
    out += QStringLiteral("<h2>Components</h2><div>");
    for (const Component &c : m_components)
        out += QStringLiteral("<div class=\"comp\"><span>%1</span><span style=\"color:%2\">%3</span></div>")
                   .arg(html(c.name), colour.value(c.status, QStringLiteral("#777")), words(c.status));
    out += QStringLiteral("</div><h2>Past incidents</h2>");
    bool any = false;
    for (auto it = m_incidents.rbegin(); it != m_incidents.rend(); ++it)
        if (it->status == QLatin1String("resolved")) {
            out += incidentHtml(*it);
            any = true;
        }
    if (!any)
        out += QStringLiteral("<p class=\"small\">No incidents reported.</p>");
    out += QStringLiteral("<p class=\"small\">Served by fleet-sim (a Statuspage-compatible subset).</p></body></html>");
    return out.toUtf8();
}

} // namespace fleet::sim
