// The Statuspage wire format: its types, checks and bounded decoders (no client; the fuzz targets build on this).
#include "statuspage.h"

#include "terminalsafe.h"

#include "isotime.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace fleet {

namespace statuspage {

namespace {

constexpr int kMaxListed = 1000; // incidents, updates or components in one answer
constexpr int kMaxText = 100000; // characters of any one text (the API allows 25,000 in a body)
constexpr int kMaxShort = 1000; // names, ids, statuses

constexpr QLatin1String kMetaGroup("fleet_console");

// A decode failure names the field; values past their bounds are cut, with an ellipsis, not trusted whole.
class Reader
{
public:
    explicit Reader(QString where)
        : m_where(std::move(where))
    {
    }
    QString text(const QJsonObject &o, const char *key, int max = kMaxShort)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull())
            return {};
        if (!v.isString()) {
            fail(key, QStringLiteral("expected text"));
            return {};
        }
        QString s = v.toString();
        if (s.size() > max)
            s = s.left(max) + QChar(0x2026);
        return s;
    }
    qint64 time(const QJsonObject &o, const char *key)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (!v.isString())
            return 0; // absent, null, or (postmortem_published_at in the OpenAPI example) a boolean: unknown
        return parseIsoUtc(v.toString()).value_or(0);
    }
    bool flag(const QJsonObject &o, const char *key)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        return v.isBool() ? v.toBool() : false;
    }
    QJsonArray list(const QJsonObject &o, const char *key)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull())
            return {};
        if (!v.isArray()) {
            fail(key, QStringLiteral("expected a list"));
            return {};
        }
        const QJsonArray a = v.toArray();
        if (a.size() > kMaxListed)
            fail(key, QStringLiteral("more than %1 entries").arg(kMaxListed));
        return a;
    }
    void fail(const char *key, const QString &why)
    {
        if (m_error.isEmpty())
            m_error = QStringLiteral("%1: field %2: %3").arg(m_where, QLatin1String(key), why);
    }
    QString error() const { return m_error; }

private:
    QString m_where;
    QString m_error;
};

Component component(Reader &r, const QJsonObject &o)
{
    Component c;
    c.id = r.text(o, "id");
    c.name = r.text(o, "name");
    c.status = r.text(o, "status");
    c.groupId = r.text(o, "group_id");
    c.group = r.flag(o, "group");
    const QJsonValue position = o.value(QLatin1String("position"));
    c.position = position.isDouble() ? int(std::clamp(position.toDouble(), 0.0, 1e6)) : 0;
    return c;
}

Incident incident(Reader &r, const QJsonObject &o)
{
    Incident i;
    i.id = r.text(o, "id");
    i.name = r.text(o, "name", kMaxShort);
    i.status = r.text(o, "status");
    i.impact = r.text(o, "impact");
    i.shortlink = r.text(o, "shortlink");
    i.createdAt = r.time(o, "created_at");
    i.updatedAt = r.time(o, "updated_at");
    i.monitoringAt = r.time(o, "monitoring_at");
    i.resolvedAt = r.time(o, "resolved_at");
    i.metadata = o.value(QLatin1String("metadata")).toObject();
    i.postmortemBody = r.text(o, "postmortem_body", kMaxText);
    const QJsonValue published = o.value(QLatin1String("postmortem_published_at"));
    i.postmortemPublished = published.isString() ? !published.toString().isEmpty() : published.toBool();
    const QJsonArray components = r.list(o, "components");
    for (const QJsonValue &c : components)
        i.components << component(r, c.toObject());
    const QJsonArray updates = r.list(o, "incident_updates");
    for (const QJsonValue &uv : updates) {
        const QJsonObject u = uv.toObject();
        IncidentUpdate up;
        up.id = r.text(u, "id");
        up.status = r.text(u, "status");
        up.body = r.text(u, "body", kMaxText);
        up.createdAt = r.time(u, "created_at");
        up.displayAt = r.time(u, "display_at");
        up.deliverNotifications = r.flag(u, "deliver_notifications");
        const QJsonArray affected = r.list(u, "affected_components");
        for (const QJsonValue &av : affected) {
            const QJsonObject a = av.toObject();
            up.affected << AffectedComponent { r.text(a, "code"), r.text(a, "name"), r.text(a, "old_status"),
                r.text(a, "new_status") };
        }
        i.updates << up;
    }
    return i;
}

template <typename T>
Result<T> parse(const QByteArray &json, const QString &where, bool array,
    const std::function<T(Reader &, const QJsonDocument &)> &read)
{
    QJsonParseError error {};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError)
        return Result<T>::failure(
            QStringLiteral("%1: not JSON (%2 at byte %3)").arg(where, error.errorString()).arg(error.offset));
    if (array ? !doc.isArray() : !doc.isObject())
        return Result<T>::failure(QStringLiteral("%1: expected a JSON %2")
                                      .arg(where, array ? QStringLiteral("list") : QStringLiteral("object")));
    if (array && doc.array().size() > kMaxListed)
        return Result<T>::failure(QStringLiteral("%1: more than %2 entries").arg(where).arg(kMaxListed));
    Reader r(where);
    T value = read(r, doc);
    if (!r.error().isEmpty())
        return Result<T>::failure(r.error());
    return Result<T>::success(std::move(value));
}

} // namespace

QString inWords(const QString &wireName)
{
    QString s = wireName;
    s.replace(u'_', u' ');
    if (!s.isEmpty())
        s[0] = s[0].toUpper();
    return s;
}

QString Incident::consoleKey() const
{
    return metadata.value(kMetaGroup).toObject().value(QLatin1String("key")).toString();
}

QString Incident::lastUpdateKey() const
{
    return metadata.value(kMetaGroup).toObject().value(QLatin1String("update")).toString();
}

bool madeBy(const Incident &incident, const IncidentChange &change, qint64 sentAtMs)
{
    if (!change.incidentKey.isEmpty() && incident.consoleKey() == change.incidentKey)
        return true;
    return incident.consoleKey().isEmpty() && incident.name == change.name && incident.createdAt > 0
        && incident.createdAt >= sentAtMs - kClockMarginMs;
}

bool carries(const Incident &incident, const IncidentChange &change, qint64 sentAtMs)
{
    if (!change.updateKey.isEmpty() && incident.lastUpdateKey() == change.updateKey)
        return true;
    if (!incident.lastUpdateKey().isEmpty())
        return false; // our metadata is there, and names another write
    for (const IncidentUpdate &u : incident.updates) {
        if (u.status == change.status && u.body == change.body && u.createdAt > 0
            && u.createdAt >= sentAtMs - kClockMarginMs)
            return true;
    }
    return false;
}

QString IncidentChange::problem(bool creating) const
{
    if (creating && name.trimmed().isEmpty())
        return QStringLiteral("an incident needs a name (what customers see as its title)");
    if (name.size() > kMaxName)
        return QStringLiteral("the name has %1 characters; the status page takes at most %2")
            .arg(name.size())
            .arg(kMaxName);
    if (body.size() > kMaxBody)
        return QStringLiteral("the message has %1 characters; the status page takes at most %2")
            .arg(body.size())
            .arg(kMaxBody);
    if (!incidentStatuses().contains(status))
        return QStringLiteral("\"%1\" is not an incident status; use one of %2")
            .arg(status, incidentStatuses().join(QLatin1String(", ")));
    if (!impactOverride.isEmpty() && !impacts().contains(impactOverride))
        return QStringLiteral("\"%1\" is not an impact; use one of %2")
            .arg(impactOverride, impacts().join(QLatin1String(", ")));
    for (auto it = components.begin(); it != components.end(); ++it)
        if (!componentStatuses().contains(it.value()))
            return QStringLiteral("\"%1\" is not a component status (component %2); use one of %3")
                .arg(it.value(), it.key(), componentStatuses().join(QLatin1String(", ")));
    return {};
}

QJsonObject IncidentChange::toValue() const
{
    QJsonObject c;
    for (auto it = components.begin(); it != components.end(); ++it)
        c.insert(it.key(), it.value());
    return { { QStringLiteral("name"), name }, { QStringLiteral("status"), status }, { QStringLiteral("body"), body },
        { QStringLiteral("impact_override"), impactOverride }, { QStringLiteral("components"), c },
        { QStringLiteral("deliver_notifications"), deliverNotifications },
        { QStringLiteral("incident_key"), incidentKey }, { QStringLiteral("update_key"), updateKey } };
}

IncidentChange IncidentChange::fromValue(const QJsonObject &v)
{
    IncidentChange c;
    c.name = v.value(QLatin1String("name")).toString();
    c.status = v.value(QLatin1String("status")).toString();
    c.body = v.value(QLatin1String("body")).toString();
    c.impactOverride = v.value(QLatin1String("impact_override")).toString();
    const QJsonObject components = v.value(QLatin1String("components")).toObject();
    for (auto it = components.begin(); it != components.end(); ++it)
        c.components.insert(it.key(), it.value().toString());
    c.deliverNotifications = v.value(QLatin1String("deliver_notifications")).toBool(true);
    c.incidentKey = v.value(QLatin1String("incident_key")).toString();
    c.updateKey = v.value(QLatin1String("update_key")).toString();
    return c;
}

QByteArray IncidentChange::toJson() const
{
    QJsonObject incident;
    if (!name.isEmpty())
        incident.insert(QStringLiteral("name"), name);
    incident.insert(QStringLiteral("status"), status);
    if (!body.isEmpty())
        incident.insert(QStringLiteral("body"), body);
    if (!impactOverride.isEmpty())
        incident.insert(QStringLiteral("impact_override"), impactOverride);
    if (!components.isEmpty()) {
        QJsonObject statuses;
        QJsonArray ids;
        for (auto it = components.begin(); it != components.end(); ++it) {
            statuses.insert(it.key(), it.value());
            ids.append(it.key());
        }
        incident.insert(QStringLiteral("components"), statuses);
        incident.insert(QStringLiteral("component_ids"), ids);
    }
    incident.insert(QStringLiteral("deliver_notifications"), deliverNotifications);
    QJsonObject mine;
    if (!incidentKey.isEmpty())
        mine.insert(QStringLiteral("key"), incidentKey);
    if (!updateKey.isEmpty())
        mine.insert(QStringLiteral("update"), updateKey);
    if (!mine.isEmpty())
        incident.insert(QStringLiteral("metadata"), QJsonObject { { QString(kMetaGroup), mine } });
    return QJsonDocument(QJsonObject { { QStringLiteral("incident"), incident } }).toJson(QJsonDocument::Compact);
}

Result<QList<Component>> decodeComponents(const QByteArray &json)
{
    return parse<QList<Component>>(json, QStringLiteral("GET components"), true, [](Reader &r, const QJsonDocument &d) {
        QList<Component> out;
        const QJsonArray all = d.array();
        for (const QJsonValue &v : all)
            out << component(r, v.toObject());
        return out;
    });
}

Result<Incident> decodeIncident(const QByteArray &json)
{
    return parse<Incident>(json, QStringLiteral("incident"), false,
        [](Reader &r, const QJsonDocument &d) { return incident(r, d.object()); });
}

Result<QList<Incident>> decodeIncidents(const QByteArray &json)
{
    return parse<QList<Incident>>(json, QStringLiteral("GET incidents"), true, [](Reader &r, const QJsonDocument &d) {
        QList<Incident> out;
        const QJsonArray all = d.array();
        for (const QJsonValue &v : all)
            out << incident(r, v.toObject());
        return out;
    });
}

Result<Postmortem> decodePostmortem(const QByteArray &json)
{
    return parse<Postmortem>(json, QStringLiteral("postmortem"), false, [](Reader &r, const QJsonDocument &d) {
        const QJsonObject o = d.object();
        return Postmortem { r.text(o, "body_draft", kMaxText), r.text(o, "body", kMaxText), r.time(o, "published_at") };
    });
}

QString decodeErrorBody(const QByteArray &json)
{
    const QJsonObject o = QJsonDocument::fromJson(json).object();
    auto bounded = [](QString s) { return s.size() > 2000 ? s.left(2000) + QChar(0x2026) : s; };
    if (o.value(QLatin1String("message")).isString())
        return bounded(o.value(QLatin1String("message")).toString());
    const QJsonValue e = o.value(QLatin1String("error"));
    if (e.isString())
        return bounded(e.toString());
    if (e.isArray()) {
        QStringList parts;
        const QJsonArray list = e.toArray();
        for (const QJsonValue &v : list)
            if (v.isString() && parts.size() < 20)
                parts << v.toString();
        return bounded(parts.join(QLatin1String("; ")));
    }
    return {};
}

} // namespace statuspage

} // namespace fleet
