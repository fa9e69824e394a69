#include "statuspage.h"

#include "terminalsafe.h"

#include "httptransport.h"
#include "isotime.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcStatusPage, "fleet.statuspage", QtInfoMsg)

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

using namespace statuspage;

QString StatusPageConfig::problem() const
{
    if (!baseUrl.isValid() || (baseUrl.scheme() != QLatin1String("https") && baseUrl.scheme() != QLatin1String("http"))
        || baseUrl.host().isEmpty())
        return QStringLiteral("the status page URL \"%1\" is not an http(s) URL with a host, such as "
                              "https://api.statuspage.io/v1")
            .arg(baseUrl.toDisplayString());
    if (pageId.trimmed().isEmpty())
        return QStringLiteral("no page id: set it (the id in the page's URL on manage.statuspage.io)");
    if (pageId.contains(u'/') || pageId.contains(u'?') || pageId.contains(u'#'))
        return QStringLiteral("the page id \"%1\" has characters a page id cannot have").arg(pageId);
    if (apiKey.isEmpty())
        return QStringLiteral("no API key: enter it in Settings (kept in the keychain), set STATUSPAGE_API_KEY, or "
                              "use a 0600 key file");
    return {};
}

ClientConfig StatusPageConfig::clientConfig() const
{
    ClientConfig c;
    c.baseUrl = baseUrl;
    c.token = apiKey;
    c.authScheme = "OAuth";
    c.caFile = caFile;
    c.insecure = insecure;
    c.maxResponseBytes = 16LL * 1024 * 1024;
    c.requestTimeoutMs = requestTimeoutMs;
    c.minWriteIntervalMs = 1000; // about one request a second per key
    c.maxRetryAfterSeconds = 60;
    // Few, short retries here: a write the page does not take soon stays in the outbox, which keeps trying.
    c.maxAttempts = 3;
    c.backoffBaseMs = 500;
    c.backoffCapMs = 4000;
    return c;
}

StatuspageClient::StatuspageClient(StatusPageConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_http(new HttpTransport(
          m_config.clientConfig(),
          [](ApiError &error, const QByteArray &body, const QString &reasonPhrase) {
              const QString words = decodeErrorBody(body);
              const QString said = words.isEmpty() ? reasonPhrase : words;
              switch (error.kind) {
              case ApiError::Kind::Unauthorized:
                  error.message = QStringLiteral("the status page did not accept the API key (401)%1")
                                      .arg(said.isEmpty() ? QString() : QStringLiteral(": ") + said);
                  break;
              case ApiError::Kind::Forbidden:
                  error.message = QStringLiteral("the API key may not do this (403)%1")
                                      .arg(said.isEmpty() ? QString() : QStringLiteral(": ") + said);
                  break;
              default:
                  error.message = QStringLiteral("HTTP %1%2")
                                      .arg(error.httpStatus)
                                      .arg(said.isEmpty() ? QString() : QStringLiteral(": ") + said);
                  if (error.httpStatus == 420 || error.httpStatus == 429)
                      error.message += QStringLiteral(" (rate limited; retry after %1 s)")
                                           .arg(std::max(error.retryAfterSeconds, 1));
              }
          },
          this))
{
    connect(m_http, &HttpTransport::requestFinished, this, &StatuspageClient::requestFinished);
}

StatuspageClient::~StatuspageClient() = default;

QString StatuspageClient::pagePath(const QString &rest) const
{
    return QStringLiteral("/pages/") + QString::fromLatin1(QUrl::toPercentEncoding(m_config.pageId)) + rest;
}

namespace {

template <typename T>
std::function<void(HttpTransport::Raw)> decoding(
    std::function<void(ApiResult<T>)> done, Result<T> (*decode)(const QByteArray &))
{
    return [done = std::move(done), decode](HttpTransport::Raw raw) {
        if (raw.error.isError()) {
            done(ApiResult<T>::failure(raw.error));
            return;
        }
        Result<T> decoded = decode(raw.body);
        if (decoded.ok()) {
            done(ApiResult<T>::success(decoded.take()));
            return;
        }
        ApiError e;
        e.kind = ApiError::Kind::Decode;
        e.message = QStringLiteral("the status page's answer is not what its API says: ") + decoded.error();
        done(ApiResult<T>::failure(e));
    };
}

} // namespace

void StatuspageClient::components(QObject *context, Callback<QList<Component>> done)
{
    componentsPage(1, {}, context, std::move(done));
}

void StatuspageClient::componentsPage(
    int page, QList<Component> sofar, QObject *context, Callback<QList<Component>> done)
{
    HttpTransport::Request r;
    r.path = pagePath(QStringLiteral("/components?per_page=100&page=%1").arg(page));
    QPointer<QObject> guard(context);
    m_http->send(r, context,
        decoding<QList<Component>>(
            [this, page, sofar, guard, done](ApiResult<QList<Component>> got) mutable {
                if (!got.ok() || !guard) {
                    done(std::move(got));
                    return;
                }
                const bool more = got->size() == 100 && page < 20; // at most 2,000 components
                sofar += got.take();
                if (more)
                    componentsPage(page + 1, std::move(sofar), guard.data(), std::move(done));
                else
                    done(ApiResult<QList<Component>>::success(std::move(sofar)));
            },
            &decodeComponents));
}

void StatuspageClient::unresolved(QObject *context, Callback<QList<Incident>> done)
{
    HttpTransport::Request r;
    r.path = pagePath(QStringLiteral("/incidents/unresolved"));
    m_http->send(r, context, decoding<QList<Incident>>(std::move(done), &decodeIncidents));
}

void StatuspageClient::incidents(const QString &search, int limit, QObject *context, Callback<QList<Incident>> done)
{
    HttpTransport::Request r;
    r.path = pagePath(QStringLiteral("/incidents?limit=%1").arg(std::clamp(limit, 1, 100)));
    if (!search.isEmpty())
        r.path += QStringLiteral("&q=") + QString::fromLatin1(QUrl::toPercentEncoding(search));
    m_http->send(r, context, decoding<QList<Incident>>(std::move(done), &decodeIncidents));
}

void StatuspageClient::incident(const QString &id, QObject *context, Callback<Incident> done)
{
    if (refuseBadId(id, QStringLiteral("incident"), context, done))
        return;
    HttpTransport::Request r;
    r.path = pagePath(QStringLiteral("/incidents/") + id);
    m_http->send(r, context, decoding<Incident>(std::move(done), &decodeIncident));
}

struct StatuspageClient::Search
{
    IncidentChange change;
    qint64 sentAtMs = 0;
    QPointer<QObject> context;
    Callback<Incident> done;
    void found(const Incident &i) { done(ApiResult<Incident>::success(i)); }
    void unknown(const QString &why)
    {
        ApiError e;
        e.kind = ApiError::Kind::Decode;
        e.message = QStringLiteral("could not prove whether the page has the incident: ") + why;
        done(ApiResult<Incident>::failure(e));
    }
};

void StatuspageClient::findCreated(
    const IncidentChange &change, qint64 sentAtMs, QObject *context, Callback<Incident> done)
{
    auto search = std::make_shared<Search>();
    search->change = change;
    search->sentAtMs = sentAtMs;
    search->context = context;
    search->done = std::move(done);
    searchUnresolved(search, 1);
}

void StatuspageClient::searchUnresolved(std::shared_ptr<Search> search, int page)
{
    if (!search->context)
        return;
    HttpTransport::Request r;
    r.path = pagePath(QStringLiteral("/incidents/unresolved?per_page=100&page=%1").arg(page));
    m_http->send(r, search->context.data(),
        decoding<QList<Incident>>(
            [this, search, page](ApiResult<QList<Incident>> got) {
                if (!got.ok())
                    return search->done(ApiResult<Incident>::failure(got.error()));
                for (const Incident &i : *got) {
                    if (madeBy(i, search->change, search->sentAtMs))
                        return search->found(i);
                }
                if (got->size() >= 100 && page < kMaxLookUpPages)
                    return searchUnresolved(search, page + 1);
                searchAll(search, 1); // it may have been resolved since, by anyone
            },
            &decodeIncidents));
}

void StatuspageClient::searchAll(std::shared_ptr<Search> search, int page)
{
    if (!search->context)
        return;
    HttpTransport::Request r;
    r.path = pagePath(QStringLiteral("/incidents?limit=100&page=%1").arg(page));
    m_http->send(r, search->context.data(),
        decoding<QList<Incident>>(
            [this, search, page](ApiResult<QList<Incident>> got) {
                if (!got.ok())
                    return search->done(ApiResult<Incident>::failure(got.error()));
                bool reachedOlder = false; // newest first: past the send, nothing later can be ours
                for (const Incident &i : *got) {
                    if (madeBy(i, search->change, search->sentAtMs))
                        return search->found(i);
                    reachedOlder = reachedOlder || (i.createdAt > 0 && i.createdAt < search->sentAtMs - kClockMarginMs);
                }
                if (reachedOlder || got->size() < 100)
                    return search->found(Incident {}); // everything since the send was seen: not there
                if (page < kMaxLookUpPages)
                    return searchAll(search, page + 1);
                search->unknown(
                    QStringLiteral("more than %1 incidents were created since it was sent").arg(kMaxLookUpPages * 100));
            },
            &decodeIncidents));
}

void StatuspageClient::create(const IncidentChange &change, QObject *context, Callback<Incident> done)
{
    HttpTransport::Request r;
    r.verb = "POST";
    r.path = pagePath(QStringLiteral("/incidents"));
    r.body = change.toJson();
    QPointer<QObject> guard(context);
    // The API has no idempotency key: after an unknown outcome, look for the console's key among the unresolved
    // incidents; found, that is the answer and nothing is sent again.
    // The page has no idempotency key: a look-up that cannot be read is no evidence that the create did not arrive,
    // so nothing is sent again then (the outbox asks again later).
    const qint64 sentAt = QDateTime::currentMSecsSinceEpoch();
    auto lookUp = [this, guard, change, sentAt, done](std::function<void(HttpTransport::Found)> happened) {
        findCreated(change, sentAt, guard.data(), [done, happened](ApiResult<Incident> found) {
            if (found.ok() && !found->id.isEmpty()) {
                qCInfo(lcStatusPage).noquote() << "the incident had been created as" << terminalSafe(found->id);
                done(std::move(found));
                happened(HttpTransport::Found::Yes);
                return;
            }
            happened(found.ok() ? HttpTransport::Found::No : HttpTransport::Found::Unknown);
        });
    };
    m_http->sendOnce(
        r, context, decoding<Incident>(done, &decodeIncident), std::move(lookUp), QStringLiteral("create incident"));
}

void StatuspageClient::update(
    const QString &incidentId, const IncidentChange &change, QObject *context, Callback<Incident> done)
{
    if (refuseBadId(incidentId, QStringLiteral("incident"), context, done))
        return;
    HttpTransport::Request r;
    r.verb = "PATCH";
    r.path = pagePath(QStringLiteral("/incidents/") + incidentId);
    r.body = change.toJson();
    QPointer<QObject> guard(context);
    // An update is a new entry on the public page: sent twice, it shows twice. Its key in the metadata (or, where
    // the page dropped the metadata, its words and time) says whether an update whose answer was lost arrived.
    const qint64 sentAt = QDateTime::currentMSecsSinceEpoch();
    auto lookUp = [this, guard, incidentId, change, sentAt, done](std::function<void(HttpTransport::Found)> happened) {
        incident(incidentId, guard.data(), [change, sentAt, done, happened](ApiResult<Incident> found) {
            if (found.ok() && carries(*found, change, sentAt)) {
                qCInfo(lcStatusPage).noquote() << "the update of" << terminalSafe(found->id) << "had arrived";
                done(std::move(found));
                happened(HttpTransport::Found::Yes);
                return;
            }
            happened(found.ok() ? HttpTransport::Found::No : HttpTransport::Found::Unknown);
        });
    };
    m_http->sendOnce(r, context, decoding<Incident>(done, &decodeIncident), std::move(lookUp),
        QStringLiteral("update incident ") + incidentId);
}

void StatuspageClient::putPostmortem(
    const QString &incidentId, const QString &draft, QObject *context, Callback<Postmortem> done)
{
    if (refuseBadId(incidentId, QStringLiteral("incident"), context, done))
        return;
    HttpTransport::Request r;
    r.verb = "PUT";
    r.path = pagePath(QStringLiteral("/incidents/%1/postmortem").arg(incidentId));
    r.body = QJsonDocument(
        QJsonObject { { QStringLiteral("postmortem"), QJsonObject { { QStringLiteral("body_draft"), draft } } } })
                 .toJson(QJsonDocument::Compact);
    r.retryTransient = true; // replacing the draft with the same text twice changes nothing
    m_http->send(r, context, decoding<Postmortem>(std::move(done), &decodePostmortem));
}

void StatuspageClient::publishPostmortem(
    const QString &incidentId, bool notifySubscribers, QObject *context, Callback<Postmortem> done)
{
    if (refuseBadId(incidentId, QStringLiteral("incident"), context, done))
        return;
    HttpTransport::Request r;
    r.verb = "PUT";
    const QString path = pagePath(QStringLiteral("/incidents/%1/postmortem").arg(incidentId));
    r.path = path + QStringLiteral("/publish");
    r.body = QJsonDocument(QJsonObject { { QStringLiteral("postmortem"),
                               QJsonObject { { QStringLiteral("notify_subscribers"), notifySubscribers },
                                   { QStringLiteral("notify_twitter"), false } } } })
                 .toJson(QJsonDocument::Compact);
    QPointer<QObject> guard(context);
    // Published twice, subscribers may be notified twice: an unreadable look-up sends nothing again.
    auto lookUp = [this, guard, path, done](std::function<void(HttpTransport::Found)> happened) {
        HttpTransport::Request get;
        get.path = path;
        m_http->send(get, guard.data(),
            decoding<Postmortem>(
                [done, happened](ApiResult<Postmortem> pm) {
                    if (pm.ok() && pm->publishedAt > 0) {
                        done(std::move(pm));
                        happened(HttpTransport::Found::Yes);
                        return;
                    }
                    happened(pm.ok() ? HttpTransport::Found::No : HttpTransport::Found::Unknown);
                },
                &decodePostmortem));
    };
    m_http->sendOnce(r, context, decoding<Postmortem>(done, &decodePostmortem), std::move(lookUp),
        QStringLiteral("publish postmortem of ") + incidentId);
}

} // namespace fleet
