#include "fleetsimserver.h"

#include "isotime.h"
#include "jsonwriter.h"
#include "wireencode.h"

#include <QFile>
#include <QHttpServer>
#include <QHttpServerResponder>

#include "httpexchange.h"
#include "metricsexposition.h"
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSslCertificate>
#include <QSslKey>
#include <QTcpServer>
#include <QTcpSocket>

#include <cmath>

Q_LOGGING_CATEGORY(lcSimHttp, "fleet.sim.http", QtInfoMsg)

namespace fleet::sim {

using Method = QHttpServerRequest::Method;

struct FleetSimServer::Call
{
    const QHttpServerRequest *request = nullptr;
    QString path;
    QStringList params; // path parameters in order
    QUrlQuery query;
    Identity who;
    bool streamRequest = false;

    QString queryValue(const char *key) const { return query.queryItemValue(QLatin1String(key), QUrl::FullyDecoded); }
    bool hasQuery(const char *key) const { return query.hasQueryItem(QLatin1String(key)); }
};

struct FleetSimServer::Reply
{
    int status = 200;
    QByteArray contentType = QByteArrayLiteral("application/json");
    QByteArray body;
    std::vector<std::pair<QByteArray, QByteArray>> headers;
};

struct FleetSimServer::Route
{
    Method method;
    QStringList pattern; // "*" matches one path segment
    Role role;
    Reply (FleetSimServer::*handler)(const Call &);
};

struct FleetSimServer::Stream
{
    explicit Stream(std::unique_ptr<HttpExchange> e)
        : exchangePtr(std::move(e))
        , exchange(*exchangePtr)
    {
    }
    std::unique_ptr<HttpExchange> exchangePtr;
    HttpExchange &exchange;
    qint64 lastSent = 0;
    QString who;
};

namespace {

// RFC 9457 problem details. `slug` names the problem type; `extra` adds members such as invalid_params.
QByteArray problemBody(int status, const QString &slug, const QString &title, const QString &detail,
    const QString &instance, const QJsonObject &extra)
{
    QJsonObject o = extra;
    o.insert(QStringLiteral("type"), QStringLiteral("urn:fleet-api:problem:%1").arg(slug));
    o.insert(QStringLiteral("title"), title);
    o.insert(QStringLiteral("status"), status);
    o.insert(QStringLiteral("detail"), detail);
    o.insert(QStringLiteral("instance"), instance);
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

std::optional<qint64> parseTimeParam(const QString &text, qint64 now)
{
    // RFC 3339, or relative to the server's now: "-90s", "-30m", "-6h", "-1d", "now".
    if (text == QLatin1String("now"))
        return now;
    if (text.startsWith(u'-') && text.size() >= 3) {
        bool ok = false;
        const qint64 n = text.mid(1, text.size() - 2).toLongLong(&ok);
        const QChar unit = text.back();
        const qint64 scale = unit == u's' ? 1000
            : unit == u'm'                ? 60000
            : unit == u'h'                ? 3600000
            : unit == u'd'                ? 86400000
                                          : 0;
        if (!ok || scale == 0 || n < 0)
            return std::nullopt;
        return now - n * scale;
    }
    return parseIsoUtc(text);
}

FleetSimServer::Reply makeProblem(int status, const QString &slug, const QString &title, const QString &detail,
    const QString &instance, const QJsonObject &extra = {})
{
    FleetSimServer::Reply r;
    r.status = status;
    r.contentType = QByteArrayLiteral("application/problem+json");
    r.body = problemBody(status, slug, title, detail, instance, extra);
    return r;
}

// 404 for a region, worker or operation id that does not exist.
FleetSimServer::Reply notFound(const char *kind, const QString &id, const QString &instance)
{
    const QString what = QLatin1String(kind);
    QString title = what;
    title[0] = title[0].toUpper();
    return makeProblem(404, what + QStringLiteral("-not-found"), title + QStringLiteral(" not found"),
        QStringLiteral("There is no %1 \"%2\".%3")
            .arg(
                what, id, what == QLatin1String("region") ? QStringLiteral(" GET /v1/regions lists them.") : QString()),
        instance);
}

// 422 naming the parameter. `reason` completes a sentence that starts with the name ("count" "must be ...");
// a `detail` that is already a whole sentence replaces "<name> <reason>".
FleetSimServer::Reply invalidParam(
    const QString &instance, const QString &name, const QString &reason, const QString &detail = {})
{
    const QJsonObject extra { { QStringLiteral("invalid_params"),
        QJsonArray { QJsonObject { { QStringLiteral("name"), name }, { QStringLiteral("reason"), reason } } } } };
    return makeProblem(422, QStringLiteral("invalid-parameter"), QStringLiteral("Invalid parameter"),
        detail.isEmpty() ? QStringLiteral("%1 %2").arg(name, reason) : detail, instance, extra);
}

// A page of a newest-first list: the items at index <= `start` that `keep` accepts, at most `limit`, as
// {"items", "next_cursor", "total"}; `total` counts every kept item, on any page.
template <typename T, typename Keep, typename Write>
QByteArray newestFirstPage(const std::vector<T> &all, int start, int limit, Keep keep, Write write)
{
    QByteArray body;
    JsonWriter w(&body);
    w.beginObject();
    w.key("items");
    w.beginArray();
    int written = 0;
    int total = 0;
    QString next;
    for (int i = int(all.size()) - 1; i >= 0; --i) {
        if (!keep(all[i]))
            continue;
        ++total;
        if (i > start)
            continue;
        if (written < limit) {
            write(w, all[i]);
            if (++written == limit)
                next = all[i].id;
        } else if (written == limit) {
            ++written; // there is more after this page
        }
    }
    w.endArray();
    w.nullableString("next_cursor", written > limit ? next : QString());
    w.field("total", total);
    w.endObject();
    return body;
}

QByteArray methodName(QHttpServerRequest::Method method)
{
    switch (method) {
    case Method::Get:
        return "GET";
    case Method::Post:
        return "POST";
    case Method::Put:
        return "PUT";
    case Method::Patch:
        return "PATCH";
    case Method::Delete:
        return "DELETE";
    default:
        return "OTHER";
    }
}

FleetSimServer::Reply jsonReply(QByteArray body, int status = 200)
{
    FleetSimServer::Reply r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

} // namespace

FleetSimServer::FleetSimServer(
    std::unique_ptr<Simulation> simulation, AccessControl access, ServerOptions options, QObject *parent)
    : QObject(parent)
    , m_sim(std::move(simulation))
    , m_access(std::move(access))
    , m_options(options)
{
    const Role viewer = Role::Viewer;
    const Role op = Role::Operator;
    const Role admin = Role::Admin;
    auto split = [](const char *pattern) { return QString::fromLatin1(pattern).split(u'/', Qt::SkipEmptyParts); };
    StatusPageSim::Options page;
    page.apiKey = m_options.statusPageKey;
    page.components = { QStringLiteral("API"), QStringLiteral("Application Builder"), QStringLiteral("Dashboard") };
    for (int i = 0; i < m_sim->regionCount(); ++i)
        page.components << QStringLiteral("Builders %1").arg(m_sim->region(i).id);
    m_statusPage = std::make_unique<StatusPageSim>(page, [this] { return m_sim->now(); });

    m_routes = {
        { Method::Get, split("v1/me"), viewer, &FleetSimServer::getMe },
        { Method::Get, split("v1/regions"), viewer, &FleetSimServer::getRegions },
        { Method::Get, split("v1/regions/*"), viewer, &FleetSimServer::getRegion },
        { Method::Get, split("v1/regions/*/health"), viewer, &FleetSimServer::getRegionHealth },
        { Method::Post, split("v1/regions/*/provision"), op, &FleetSimServer::postProvision },
        { Method::Post, split("v1/regions/*/drain"), op, &FleetSimServer::postDrainRegion },
        { Method::Post, split("v1/regions/*/resume"), op, &FleetSimServer::postResumeRegion },
        { Method::Get, split("v1/workers"), viewer, &FleetSimServer::getWorkers },
        { Method::Get, split("v1/workers/*"), viewer, &FleetSimServer::getWorker },
        { Method::Post, split("v1/workers/*/drain"), op, &FleetSimServer::postDrainWorker },
        { Method::Get, split("v1/fleet/snapshot"), viewer, &FleetSimServer::getSnapshot },
        { Method::Get, split("v1/events"), viewer, nullptr },
        { Method::Get, split("v1/operations"), viewer, &FleetSimServer::getOperations },
        { Method::Get, split("v1/operations/*"), viewer, &FleetSimServer::getOperation },
        { Method::Post, split("v1/operations/*/cancel"), op, &FleetSimServer::postCancelOperation },
        { Method::Get, split("v1/audit"), viewer, &FleetSimServer::getAudit },
        { Method::Get, split("metrics"), viewer, &FleetSimServer::getMetrics },
        { Method::Get, split("v1/sim/status"), admin, &FleetSimServer::getSimStatus },
        { Method::Post, split("v1/sim/advance"), admin, &FleetSimServer::postSimAdvance },
        { Method::Post, split("v1/sim/speed"), admin, &FleetSimServer::postSimSpeed },
        { Method::Post, split("v1/sim/conditions"), admin, &FleetSimServer::postSimConditions },
        { Method::Get, split("v1/sim/faults"), admin, &FleetSimServer::getSimFaults },
        { Method::Post, split("v1/sim/faults"), admin, &FleetSimServer::postSimFault },
        { Method::Delete, split("v1/sim/faults"), admin, &FleetSimServer::deleteSimFaults },
    };

    m_http = new QHttpServer(this);
    m_http->setMissingHandler([this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
        handle(request, std::move(responder));
    });

    m_clock.start();
    m_tickTimer.setInterval(m_options.tickMs);
    m_tickTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_tickTimer, &QTimer::timeout, this, &FleetSimServer::tick);
    m_tickTimer.start();
    m_heartbeatTimer.setInterval(std::max(50, m_options.heartbeatMs));
    connect(&m_heartbeatTimer, &QTimer::timeout, this, &FleetSimServer::heartbeat);
    m_heartbeatTimer.start();
}

FleetSimServer::~FleetSimServer() = default;

Result<quint16> FleetSimServer::listen(const QHostAddress &address, quint16 port)
{
    using R = Result<quint16>;
    if (!m_options.tlsCertificateFile.isEmpty()) {
        const auto certs = QSslCertificate::fromPath(m_options.tlsCertificateFile);
        QFile keyFile(m_options.tlsKeyFile);
        if (certs.isEmpty() || !keyFile.open(QIODevice::ReadOnly)) {
            return R::failure(QStringLiteral("Cannot read the TLS certificate %1 or key %2 (PEM expected)")
                                  .arg(m_options.tlsCertificateFile, m_options.tlsKeyFile));
        }
        const QByteArray pem = keyFile.readAll();
        QSslKey key(pem, QSsl::Rsa, QSsl::Pem);
        if (key.isNull())
            key = QSslKey(pem, QSsl::Ec, QSsl::Pem);
        if (key.isNull()) {
            return R::failure(
                QStringLiteral("The TLS key %1 is not an RSA or EC private key in PEM").arg(m_options.tlsKeyFile));
        }
        m_http->sslSetup(certs.first(), key);
    }
    m_port = m_http->listen(address, port);
    if (m_port == 0)
        return R::failure(QStringLiteral("Cannot listen on %1 port %2: the port is in use or not allowed. "
                                         "Use --port 0 to pick a free port.")
                              .arg(address.toString())
                              .arg(port));
    return R::success(m_port);
}

void FleetSimServer::close()
{
    cutStreams(true);
    for (QTcpServer *server : m_http->servers())
        server->close();
}

void FleetSimServer::setSpeed(double speed)
{
    m_options.speed = std::max(0.0, speed);
    m_pendingSeconds = 0;
}

int FleetSimServer::streamCount() const
{
    return int(
        std::count_if(m_streams.begin(), m_streams.end(), [](const auto &s) { return s->exchange.isConnected(); }));
}

void FleetSimServer::tick()
{
    const qint64 nowMs = m_clock.elapsed();
    const double elapsed = double(nowMs - m_lastTickMs) / 1000.0;
    m_lastTickMs = nowMs;
    if (m_options.speed <= 0)
        return flushStreams();
    m_pendingSeconds += elapsed * m_options.speed;
    // Never spend more than most of a tick simulating, so requests keep being answered; drop a backlog that
    // cannot be caught up rather than freezing (the simulated clock then runs slower than asked).
    QElapsedTimer budget;
    budget.start();
    int steps = 0;
    while (m_pendingSeconds >= 1 && budget.elapsed() < m_options.tickMs * 3 / 4) {
        m_sim->step();
        m_pendingSeconds -= 1;
        ++steps;
    }
    if (m_pendingSeconds > 10 * std::max(1.0, m_options.speed)) {
        qCWarning(lcSimHttp) << "simulation falls behind the requested speed; dropping" << int(m_pendingSeconds)
                             << "simulated seconds";
        m_pendingSeconds = 0;
    }
    if (steps > 0)
        Q_EMIT stepped(m_sim->now());
    flushStreams();
}

void FleetSimServer::handle(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    auto exchangePtr = std::make_unique<HttpExchange>(std::move(responder));
    HttpExchange &exchange = *exchangePtr;
    ++m_requests;
    Call call;
    call.request = &request;
    call.path = request.url().path();
    call.query = QUrlQuery(request.url());
    const QStringList segments = call.path.split(u'/', Qt::SkipEmptyParts);

    if (call.path == QLatin1String("/livez")) {
        Reply r;
        r.contentType = QByteArrayLiteral("text/plain");
        r.body = QByteArrayLiteral("ok\n");
        return send(exchange, r);
    }

    const bool simControl = call.path.startsWith(QLatin1String("/v1/sim/"));
    const bool isStream = call.path == QLatin1String("/v1/events");
    FaultInjector::Decision fault;
    if (!simControl)
        fault = m_faults.forRequest(call.path, isStream);
    if (fault.kind == FaultInjector::Kind::Error) {
        Reply r = makeProblem(fault.status, QStringLiteral("injected-fault"), QStringLiteral("Injected fault"),
            QStringLiteral("fleet-sim answered with an injected %1 (%2).").arg(fault.status).arg(fault.faultId),
            call.path);
        if (fault.retryAfterSeconds > 0)
            r.headers.emplace_back("Retry-After", QByteArray::number(fault.retryAfterSeconds));
        return send(exchange, r);
    }

    // The Statuspage-compatible subset and its public page: their own credentials (an OAuth API key) and limits.
    if (call.path == QLatin1String("/status") || call.path == QLatin1String("/status/")) {
        Reply r;
        r.contentType = QByteArrayLiteral("text/html; charset=utf-8");
        r.body = m_statusPage->publicPage();
        return send(exchange, r);
    }
    if (call.path.startsWith(QLatin1String("/statuspage/v1/"))) {
        const StatusPageSim::Reply sp = m_statusPage->handle(methodName(request.method()), segments.mid(2), call.query,
            request.value(QByteArrayLiteral("Authorization")), request.body());
        Reply r { sp.status, sp.contentType, sp.body, sp.headers };
        if (fault.kind == FaultInjector::Kind::Stall) {
            std::shared_ptr<HttpExchange> held = std::move(exchangePtr);
            QTimer::singleShot(fault.delayMs, this, [this, held, r]() {
                if (held->isConnected())
                    send(*held, r);
            });
            return;
        }
        return send(exchange, r);
    }

    // Authentication before routing, so that an unauthenticated caller learns nothing about paths.
    const QByteArray auth = request.value(QByteArrayLiteral("Authorization"));
    QString token;
    if (auth.startsWith("Bearer ") || auth.startsWith("bearer "))
        token = QString::fromLatin1(auth.mid(7).trimmed());
    if (token.isEmpty()) {
        Reply r = makeProblem(401, QStringLiteral("unauthenticated"), QStringLiteral("Authentication required"),
            QStringLiteral("Send an API token as \"Authorization: Bearer <token>\"."), call.path);
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"fleet-api\"");
        return send(exchange, r);
    }
    const auto who = m_access.identify(token);
    if (!who) {
        Reply r = makeProblem(401, QStringLiteral("invalid-token"), QStringLiteral("Invalid token"),
            QStringLiteral(
                "The bearer token is not known to this server. Check the token, or ask an admin for a new one."),
            call.path);
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"fleet-api\", error=\"invalid_token\"");
        return send(exchange, r);
    }
    call.who = *who;
    if (!isStream) {
        if (const int wait = m_access.admit(token); wait > 0) {
            Reply r = makeProblem(429, QStringLiteral("rate-limited"), QStringLiteral("Too many requests"),
                QStringLiteral("This token sent more requests than the server allows; retry after %1 s.").arg(wait),
                call.path);
            r.headers.emplace_back("Retry-After", QByteArray::number(wait));
            return send(exchange, r);
        }
    }

    const Route *route = nullptr;
    bool pathKnown = false;
    QStringList allowed;
    for (const Route &candidate : m_routes) {
        if (candidate.pattern.size() != segments.size())
            continue;
        QStringList params;
        bool match = true;
        for (int i = 0; i < segments.size() && match; ++i) {
            if (candidate.pattern[i] == u'*')
                params << segments[i];
            else
                match = candidate.pattern[i] == segments[i];
        }
        if (!match)
            continue;
        pathKnown = true;
        allowed << (candidate.method == Method::Get ? QStringLiteral("GET")
                : candidate.method == Method::Post  ? QStringLiteral("POST")
                                                    : QStringLiteral("DELETE"));
        if (candidate.method == request.method()) {
            route = &candidate;
            call.params = params;
            break;
        }
    }
    if (!route) {
        if (pathKnown) {
            Reply r = makeProblem(405, QStringLiteral("method-not-allowed"), QStringLiteral("Method not allowed"),
                QStringLiteral("%1 accepts %2.").arg(call.path, allowed.join(QLatin1String(", "))), call.path);
            r.headers.emplace_back("Allow", allowed.join(QLatin1String(", ")).toLatin1());
            return send(exchange, r);
        }
        return send(exchange,
            makeProblem(404, QStringLiteral("not-found"), QStringLiteral("Not found"),
                QStringLiteral("There is no endpoint at %1. See docs/fleet-api.md for the paths.").arg(call.path),
                call.path));
    }
    if (call.who.role < route->role) {
        if (route->role >= Role::Operator) {
            AuditEntry entry;
            entry.actor = call.who.name;
            entry.role = call.who.role;
            entry.action = QStringLiteral("request");
            entry.target = call.path;
            entry.result = QStringLiteral("rejected");
            entry.detail = QStringLiteral("Forbidden: needs the %1 role").arg(wireName(route->role));
            m_sim->recordAudit(entry);
        }
        return send(exchange,
            makeProblem(403, QStringLiteral("forbidden"), QStringLiteral("Forbidden"),
                QStringLiteral("This needs the %1 role; the token of %2 has the %3 role. Ask an admin for access, or "
                               "use a token with that role.")
                    .arg(wireName(route->role), call.who.name, wireName(call.who.role)),
                call.path));
    }
    if (request.body().size() > m_options.maxBodyBytes) {
        return send(exchange,
            makeProblem(413, QStringLiteral("body-too-large"), QStringLiteral("Request body too large"),
                QStringLiteral("The request body has %1 bytes; the limit is %2.")
                    .arg(request.body().size())
                    .arg(m_options.maxBodyBytes),
                call.path));
    }
    if (isStream)
        return openStream(call, std::move(exchangePtr));

    Reply reply = (this->*route->handler)(call);
    if (simControl)
        flushStreams(); // simulator controls change state; let streams see it at once

    if (fault.kind == FaultInjector::Kind::Malformed) {
        if (fault.mode == QLatin1String("truncate"))
            reply.body.truncate(std::max<qsizetype>(1, reply.body.size() / 2));
        else if (fault.mode == QLatin1String("not_json"))
            reply.body
                = QByteArrayLiteral("<html><body><h1>502 Bad Gateway</h1><script>alert(1)</script></body></html>");
        else
            reply.body
                = QByteArrayLiteral(R"({"id":42,"items":"many","workers":{"state":7},"regions":null,"sequence":"x"})");
    }
    if (fault.kind == FaultInjector::Kind::Stall) {
        std::shared_ptr<HttpExchange> held = std::move(exchangePtr);
        QTimer::singleShot(fault.delayMs, this, [this, held, reply]() {
            if (held->isConnected())
                send(*held, reply);
        });
        return;
    }
    send(exchange, reply);
}

void FleetSimServer::send(HttpExchange &exchange, const Reply &reply)
{
    exchange.send(reply.status, reply.contentType, reply.body, reply.headers);
}

// ---- event stream -------------------------------------------------------------------------------------------

void FleetSimServer::openStream(const Call &call, std::unique_ptr<HttpExchange> exchange)
{
    auto stream = std::make_unique<Stream>(std::move(exchange));
    stream->who = call.who.name;
    Stream &s = *stream;
    s.exchange.beginStream(200,
        { { QByteArrayLiteral("Content-Type"), QByteArrayLiteral("text/event-stream") },
            { QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-cache") },
            { QByteArrayLiteral("Connection"), QByteArrayLiteral("close") },
            { QByteArrayLiteral("X-Heartbeat-Interval-Ms"), QByteArray::number(m_options.heartbeatMs) } });

    EventLog &log = m_sim->events();
    QByteArray first = QByteArrayLiteral("retry: 3000\n: fleet-sim event stream, heartbeat every ")
        + QByteArray::number(m_options.heartbeatMs) + QByteArrayLiteral(" ms\n\n");
    QByteArray lastIdText = call.request->value(QByteArrayLiteral("Last-Event-ID")).trimmed();
    if (lastIdText.isEmpty())
        lastIdText = call.queryValue("last_event_id").toLatin1();
    if (lastIdText.isEmpty()) {
        s.lastSent = log.lastId();
    } else {
        bool ok = false;
        const qint64 lastId = lastIdText.toLongLong(&ok);
        if (ok && log.canResumeAfter(lastId)) {
            s.lastSent = lastId;
        } else {
            // Too old (or from another server life): the client must refetch the snapshot.
            QByteArray data;
            JsonWriter w(&data);
            w.beginObject();
            w.field(
                "reason", ok ? (lastId > log.lastId() ? "unknown_event_id" : "events_expired") : "invalid_event_id");
            w.field("requested", QString::fromLatin1(lastIdText));
            w.field("oldest_available", log.firstRetainedId());
            w.field("sequence", log.lastId());
            w.endObject();
            first += "id: " + QByteArray::number(log.lastId()) + "\nevent: resync\ndata: " + data + "\n\n";
            s.lastSent = log.lastId();
        }
    }
    s.exchange.write(first);
    qCInfo(lcSimHttp) << "event stream opened by" << s.who << "from event" << s.lastSent;
    m_streams.push_back(std::move(stream));
    flushStreams();
}

void FleetSimServer::writeToStream(Stream &stream, const QByteArray &chunk)
{
    stream.exchange.write(chunk);
}

void FleetSimServer::flushStreams()
{
    std::erase_if(m_streams, [](const auto &s) { return !s->exchange.isConnected(); });
    if (m_streams.empty() || m_faults.streamsStalled())
        return;
    const EventLog &log = m_sim->events();
    for (auto &stream : m_streams) {
        if (stream->lastSent >= log.lastId())
            continue;
        if (stream->exchange.bytesToWrite() > m_options.maxStreamBacklogBytes) {
            qCWarning(lcSimHttp) << "closing the event stream of" << stream->who << "- it is too far behind";
            stream->exchange.close();
            continue;
        }
        QByteArray chunk;
        if (!log.canResumeAfter(stream->lastSent)) {
            chunk = "id: " + QByteArray::number(log.lastId())
                + "\nevent: resync\ndata: {\"reason\":\"events_expired\","
                  "\"sequence\":"
                + QByteArray::number(log.lastId()) + "}\n\n";
            stream->lastSent = log.lastId();
        } else {
            for (auto it = log.after(stream->lastSent); it != log.end(); ++it) {
                chunk += "id: ";
                chunk += QByteArray::number(it->id);
                chunk += "\nevent: ";
                chunk += it->type;
                chunk += "\ndata: ";
                chunk += it->data;
                chunk += "\n\n";
                ++m_eventsWritten;
            }
            stream->lastSent = log.lastId();
        }
        writeToStream(*stream, chunk);
    }
}

void FleetSimServer::heartbeat()
{
    if (m_faults.streamsStalled())
        return;
    QByteArray beat = QByteArrayLiteral(": heartbeat ");
    appendIsoUtc(&beat, m_sim->now());
    beat += "\n\n";
    for (auto &stream : m_streams)
        writeToStream(*stream, beat);
}

void FleetSimServer::cutStreams(bool reset)
{
    for (auto &stream : m_streams) {
        if (reset)
            stream->exchange.abort();
        else
            stream->exchange.close();
    }
    m_streams.clear();
}

// ---- reads --------------------------------------------------------------------------------------------------

FleetSimServer::Reply FleetSimServer::getMe(const Call &call)
{
    QByteArray body;
    JsonWriter w(&body);
    writeIdentity(w, call.who, m_sim->now());
    return jsonReply(body);
}

FleetSimServer::Reply FleetSimServer::getRegions(const Call &)
{
    QByteArray body;
    JsonWriter w(&body);
    w.beginObject();
    w.key("items");
    w.beginArray();
    for (int i = 0; i < m_sim->regionCount(); ++i)
        writeRegion(w, m_sim->region(i));
    w.endArray();
    w.key("next_cursor");
    w.null();
    w.field("total", m_sim->regionCount());
    w.endObject();
    return jsonReply(body);
}

FleetSimServer::Reply FleetSimServer::getRegion(const Call &call)
{
    const int r = m_sim->regionIndex(call.params[0]);
    if (r < 0)
        return notFound("region", call.params[0], call.path);
    QByteArray body;
    JsonWriter w(&body);
    writeRegion(w, m_sim->region(r));
    return jsonReply(body);
}

FleetSimServer::Reply FleetSimServer::getRegionHealth(const Call &call)
{
    constexpr int kMaxBuckets = 10000;
    const int r = m_sim->regionIndex(call.params[0]);
    if (r < 0)
        return notFound("region", call.params[0], call.path);
    const qint64 now = m_sim->now();
    const auto to
        = call.hasQuery("to") ? parseTimeParam(call.queryValue("to"), now) : std::optional<qint64>(now + 1000);
    if (!to)
        return invalidParam(
            call.path, QStringLiteral("to"), QStringLiteral("must be an RFC 3339 time or relative like -1h"));
    const auto from = call.hasQuery("from") ? parseTimeParam(call.queryValue("from"), now)
                                            : std::optional<qint64>(*to - 3600 * 1000);
    if (!from)
        return invalidParam(
            call.path, QStringLiteral("from"), QStringLiteral("must be an RFC 3339 time or relative like -1h"));
    bool ok = true;
    const int step = call.hasQuery("step") ? call.queryValue("step").toInt(&ok) : 60;
    if (!ok || step < 1 || step > 86400)
        return invalidParam(call.path, QStringLiteral("step"), QStringLiteral("must be whole seconds from 1 to 86400"));
    if (*from >= *to)
        return invalidParam(call.path, QStringLiteral("from"), QStringLiteral("must be before to"));
    const qint64 stepMs = qint64(step) * 1000;
    const qint64 alignedFrom = *from - ((*from % stepMs) + stepMs) % stepMs;
    const qint64 buckets = (*to - alignedFrom + stepMs - 1) / stepMs; // as many as Simulation::health() returns
    if (buckets > kMaxBuckets)
        return invalidParam(call.path, QStringLiteral("step"),
            QStringLiteral(
                "gives %1 buckets for this range; at most %2 fit one response. Use a larger step or a shorter "
                "range.")
                .arg(buckets)
                .arg(kMaxBuckets));
    const auto samples = m_sim->health(r, *from, *to, step);
    QByteArray body;
    body.reserve(qsizetype(samples.size()) * 380);
    JsonWriter w(&body);
    w.beginObject();
    w.field("region", QStringView(m_sim->region(r).id));
    w.key("from");
    w.timestamp(samples.empty() ? *from : samples.front().time);
    w.key("to");
    w.timestamp(*to);
    w.field("step_s", step);
    w.key("history_start");
    w.timestamp(m_sim->historyStart());
    w.key("buckets");
    w.beginArray();
    for (const auto &s : samples)
        writeHealthSample(w, s);
    w.endArray();
    w.endObject();
    return jsonReply(body);
}

FleetSimServer::Reply FleetSimServer::getWorkers(const Call &call)
{
    int region = -1;
    std::optional<WorkerState> state;
    std::optional<Arch> arch;
    if (call.hasQuery("region")) {
        region = m_sim->regionIndex(call.queryValue("region"));
        if (region < 0)
            return invalidParam(call.path, QStringLiteral("region"), QStringLiteral("is not a known region id"));
    }
    if (call.hasQuery("state")) {
        state = workerStateFromString(call.queryValue("state"));
        if (!state)
            return invalidParam(call.path, QStringLiteral("state"),
                QStringLiteral("must be provisioning, idle, busy, draining, offline or terminated"));
    }
    if (call.hasQuery("arch")) {
        arch = archFromString(call.queryValue("arch"));
        if (!arch)
            return invalidParam(call.path, QStringLiteral("arch"), QStringLiteral("must be amd64, aarch64 or armv7hf"));
    }
    bool ok = true;
    const int limit = call.hasQuery("limit") ? call.queryValue("limit").toInt(&ok) : 500;
    if (!ok || limit < 1 || limit > 5000)
        return invalidParam(call.path, QStringLiteral("limit"), QStringLiteral("must be from 1 to 5000"));
    const int start = call.hasQuery("cursor") ? m_sim->workerLowerBound(call.queryValue("cursor")) : 0;

    QByteArray body;
    JsonWriter w(&body);
    w.beginObject();
    w.key("items");
    w.beginArray();
    int total = 0;
    int written = 0;
    QString nextCursor;
    const QString regionId = region >= 0 ? m_sim->region(region).id : QString();
    for (int i = 0; i < m_sim->workerCount(); ++i) {
        const Worker &wk = m_sim->worker(i);
        if ((region >= 0 && wk.region != regionId) || (state && wk.state != *state) || (arch && wk.arch != *arch))
            continue;
        ++total;
        if (i < start)
            continue;
        if (written < limit) {
            writeWorker(w, wk);
            ++written;
            if (written == limit)
                nextCursor = wk.id;
        } else if (written == limit) {
            ++written; // there is more after the cursor
        }
    }
    w.endArray();
    if (written > limit)
        w.field("next_cursor", QStringView(nextCursor));
    else {
        w.key("next_cursor");
        w.null();
    }
    w.field("total", total);
    w.endObject();
    return jsonReply(body);
}

FleetSimServer::Reply FleetSimServer::getWorker(const Call &call)
{
    const int i = m_sim->workerIndex(call.params[0]);
    if (i < 0)
        return notFound("worker", call.params[0], call.path);
    QByteArray body;
    JsonWriter w(&body);
    writeWorker(w, m_sim->worker(i));
    return jsonReply(body);
}

FleetSimServer::Reply FleetSimServer::getSnapshot(const Call &)
{
    return jsonReply(m_sim->snapshotJson());
}

FleetSimServer::Reply FleetSimServer::getOperations(const Call &call)
{
    bool ok = true;
    const int limit = call.hasQuery("limit") ? call.queryValue("limit").toInt(&ok) : 100;
    if (!ok || limit < 1 || limit > 1000)
        return invalidParam(call.path, QStringLiteral("limit"), QStringLiteral("must be from 1 to 1000"));
    std::optional<OperationState> state;
    if (call.hasQuery("state")) {
        state = operationStateFromString(call.queryValue("state"));
        if (!state)
            return invalidParam(call.path, QStringLiteral("state"),
                QStringLiteral("must be pending, running, succeeded, failed or cancelled"));
    }
    const QString region = call.queryValue("region");
    const QString key = call.queryValue("idempotency_key"); // the caller's own operation with this key
    const auto &ops = m_sim->operations();
    int start = int(ops.size()) - 1;
    if (call.hasQuery("cursor")) {
        const int c = m_sim->operationIndex(call.queryValue("cursor"));
        if (c < 0)
            return invalidParam(
                call.path, QStringLiteral("cursor"), QStringLiteral("is not an operation id from a previous page"));
        start = c - 1;
    }
    return jsonReply(newestFirstPage(
        ops, start, limit,
        [&](const Operation &op) {
            return (!state || op.state == *state) && (region.isEmpty() || op.region == region)
                && (key.isEmpty() || (op.idempotencyKey == key && op.requestedBy == call.who.name));
        },
        [](JsonWriter &w, const Operation &op) { writeOperation(w, op); }));
}

FleetSimServer::Reply FleetSimServer::getOperation(const Call &call)
{
    const int i = m_sim->operationIndex(call.params[0]);
    if (i < 0)
        return notFound("operation", call.params[0], call.path);
    QByteArray body;
    JsonWriter w(&body);
    writeOperation(w, m_sim->operations()[i]);
    return jsonReply(body);
}

FleetSimServer::Reply FleetSimServer::getAudit(const Call &call)
{
    bool ok = true;
    const int limit = call.hasQuery("limit") ? call.queryValue("limit").toInt(&ok) : 100;
    if (!ok || limit < 1 || limit > 1000)
        return invalidParam(call.path, QStringLiteral("limit"), QStringLiteral("must be from 1 to 1000"));
    const auto &audit = m_sim->audit();
    int start = int(audit.size()) - 1;
    if (call.hasQuery("cursor")) {
        const QString cursor = call.queryValue("cursor");
        const int n = cursor.startsWith(QLatin1String("au-")) ? cursor.mid(3).toInt() : 0;
        if (n < 1 || n > int(audit.size()))
            return invalidParam(
                call.path, QStringLiteral("cursor"), QStringLiteral("is not an audit id from a previous page"));
        start = n - 2;
    }
    const QString actor = call.queryValue("actor");
    return jsonReply(newestFirstPage(
        audit, start, limit, [&](const AuditEntry &e) { return actor.isEmpty() || e.actor == actor; },
        [](JsonWriter &w, const AuditEntry &e) { writeAuditEntry(w, e); }));
}

FleetSimServer::Reply FleetSimServer::getMetrics(const Call &)
{
    Reply r;
    r.contentType = QByteArrayLiteral("text/plain; version=0.0.4; charset=utf-8");
    r.body = prometheusText(fleetMetrics(*m_sim, streamCount()));
    return r;
}

// ---- actions ------------------------------------------------------------------------------------------------

std::optional<FleetSimServer::Reply> FleetSimServer::parseAction(
    const Call &call, ActionRequest *request, QJsonObject *body)
{
    const QByteArray raw = call.request->body();
    if (!raw.trimmed().isEmpty()) {
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(raw, &error);
        if (!doc.isObject()) {
            return makeProblem(400, QStringLiteral("malformed-body"), QStringLiteral("Malformed request body"),
                error.error != QJsonParseError::NoError ? QStringLiteral("The body is not valid JSON: %1 at byte %2.")
                                                              .arg(error.errorString())
                                                              .arg(error.offset)
                                                        : QStringLiteral("The body must be a JSON object."),
                call.path);
        }
        *body = doc.object();
    }
    request->actor = call.who.name;
    request->role = call.who.role;
    const QString dryRun = call.queryValue("dry_run");
    request->dryRun = dryRun == QLatin1String("true") || dryRun == QLatin1String("1");
    const QJsonValue reason = body->value(QLatin1String("reason"));
    if (!reason.isString() || reason.toString().trimmed().isEmpty())
        return invalidParam(call.path, QStringLiteral("reason"),
            QStringLiteral("is required: say why, in words, so that everyone watching knows"));
    request->reason = reason.toString().trimmed();
    if (request->reason.size() > 1000)
        return invalidParam(call.path, QStringLiteral("reason"), QStringLiteral("must be at most 1000 characters"));
    const QJsonValue expires = body->value(QLatin1String("expires_at"));
    if (!expires.isUndefined() && !expires.isNull()) {
        const auto t = parseIsoUtc(expires.toString());
        if (!t)
            return invalidParam(call.path, QStringLiteral("expires_at"),
                QStringLiteral("must be an RFC 3339 time such as 2025-11-12T18:00:00Z"));
        if (*t <= m_sim->now())
            return invalidParam(call.path, QStringLiteral("expires_at"),
                QStringLiteral("must be after the server's current time, %1").arg(formatIsoUtc(m_sim->now())));
        request->expiresAt = *t;
    }
    const QByteArray key = call.request->value(QByteArrayLiteral("Idempotency-Key")).trimmed();
    if (key.isEmpty() && !request->dryRun) {
        return makeProblem(428, QStringLiteral("idempotency-key-required"), QStringLiteral("Idempotency-Key required"),
            QStringLiteral(
                "Send an Idempotency-Key header (for example a UUID made once per user action, reused on every "
                "retry of it), so that a retried request never acts twice."),
            call.path);
    }
    if (key.size() > 200)
        return invalidParam(
            call.path, QStringLiteral("Idempotency-Key"), QStringLiteral("must be at most 200 characters"));
    request->idempotencyKey = QString::fromLatin1(key);
    return std::nullopt;
}

FleetSimServer::Reply FleetSimServer::runAction(const Call &call, const QString &action,
    const std::function<ActionResult(const ActionRequest &, const QJsonObject &)> &act)
{
    ActionRequest request;
    QJsonObject body;
    if (auto error = parseAction(call, &request, &body))
        return *error;
    return actionReply(call, act(request, body), action);
}

FleetSimServer::Reply FleetSimServer::actionReply(const Call &call, const ActionResult &result, const QString &action)
{
    using Outcome = ActionResult::Outcome;
    const QString opId = result.operation >= 0 ? m_sim->operations()[result.operation].id : QString();
    switch (result.outcome) {
    case Outcome::Created:
    case Outcome::Replayed: {
        QByteArray body;
        JsonWriter w(&body);
        writeOperation(w, m_sim->operations()[result.operation]);
        Reply r = jsonReply(body, result.outcome == Outcome::Created ? 201 : 200);
        r.headers.emplace_back("Location", "/v1/operations/" + opId.toLatin1());
        if (result.outcome == Outcome::Replayed)
            r.headers.emplace_back("Idempotent-Replayed", "true");
        return r;
    }
    case Outcome::DryRun: {
        QByteArray body;
        JsonWriter w(&body);
        w.beginObject();
        w.field("dry_run", true);
        w.field("action", QStringView(action));
        w.field("target", QStringView(call.params.value(0)));
        w.key("impact");
        w.beginObject();
        w.field("workers_affected", result.impact.workersAffected);
        w.field("running_builds", result.impact.runningBuilds);
        w.field("queued_builds", result.impact.queuedBuilds);
        w.field("active_workers_before", result.impact.activeWorkersBefore);
        w.field("active_workers_after", result.impact.activeWorkersAfter);
        w.field("region_workers", result.impact.regionWorkers);
        w.field("max_workers", result.impact.maxWorkers);
        w.field("capacity_left", std::max(0, result.impact.maxWorkers - result.impact.regionWorkers));
        w.endObject();
        w.key("notes");
        w.beginArray();
        for (const QString &note : result.impact.notes)
            w.value(QStringView(note));
        w.endArray();
        w.endObject();
        return jsonReply(body);
    }
    case Outcome::NotFound:
        return makeProblem(404, QStringLiteral("not-found"), QStringLiteral("Not found"), result.detail, call.path);
    case Outcome::Conflict: {
        QJsonObject extra;
        if (!opId.isEmpty())
            extra.insert(QStringLiteral("operation"), opId);
        return makeProblem(409, QStringLiteral("conflict"), QStringLiteral("Conflict with the current state"),
            result.detail, call.path, extra);
    }
    case Outcome::KeyReused:
        return makeProblem(422, QStringLiteral("idempotency-key-reused"), QStringLiteral("Idempotency-Key reused"),
            result.detail, call.path, { { QStringLiteral("operation"), opId } });
    case Outcome::Invalid:
        return invalidParam(call.path, result.field, result.detail, result.detail);
    }
    return makeProblem(500, QStringLiteral("internal"), QStringLiteral("Internal error"), QString(), call.path);
}

FleetSimServer::Reply FleetSimServer::postProvision(const Call &call)
{
    const int r = m_sim->regionIndex(call.params[0]);
    if (r < 0)
        return notFound("region", call.params[0], call.path);
    return runAction(call, QStringLiteral("provision"), [&](const ActionRequest &request, const QJsonObject &body) {
        ActionResult invalid;
        invalid.outcome = ActionResult::Outcome::Invalid;
        const QJsonValue count = body.value(QLatin1String("count"));
        const auto arch = archFromString(body.value(QLatin1String("arch")).toString());
        if (!count.isDouble() || count.toDouble() != std::floor(count.toDouble())) {
            invalid.field = QStringLiteral("count");
            invalid.detail = QStringLiteral("count is required and must be a whole number.");
        } else if (!arch) {
            invalid.field = QStringLiteral("arch");
            invalid.detail = QStringLiteral("arch is required: amd64, aarch64 or armv7hf.");
        } else {
            return m_sim->provision(r, count.toInt(), *arch, request);
        }
        return invalid;
    });
}

FleetSimServer::Reply FleetSimServer::postDrainRegion(const Call &call)
{
    const int r = m_sim->regionIndex(call.params[0]);
    if (r < 0)
        return notFound("region", call.params[0], call.path);
    return runAction(call, QStringLiteral("drain_region"),
        [&](const ActionRequest &request, const QJsonObject &) { return m_sim->drainRegion(r, request); });
}

FleetSimServer::Reply FleetSimServer::postResumeRegion(const Call &call)
{
    const int r = m_sim->regionIndex(call.params[0]);
    if (r < 0)
        return notFound("region", call.params[0], call.path);
    return runAction(call, QStringLiteral("resume_region"),
        [&](const ActionRequest &request, const QJsonObject &) { return m_sim->resumeRegion(r, request); });
}

FleetSimServer::Reply FleetSimServer::postDrainWorker(const Call &call)
{
    const int i = m_sim->workerIndex(call.params[0]);
    if (i < 0)
        return notFound("worker", call.params[0], call.path);
    return runAction(call, QStringLiteral("drain_worker"),
        [&](const ActionRequest &request, const QJsonObject &) { return m_sim->drainWorker(i, request); });
}

FleetSimServer::Reply FleetSimServer::postCancelOperation(const Call &call)
{
    const int i = m_sim->operationIndex(call.params[0]);
    if (i < 0)
        return notFound("operation", call.params[0], call.path);
    return runAction(call, QStringLiteral("cancel"),
        [&](const ActionRequest &request, const QJsonObject &) { return m_sim->cancel(i, request); });
}

// ---- simulator controls -------------------------------------------------------------------------------------

FleetSimServer::Reply FleetSimServer::getSimStatus(const Call &)
{
    QByteArray body;
    JsonWriter w(&body);
    w.beginObject();
    w.field("id", QStringView(u"fleet-sim"));
    w.field("scenario", QStringView(m_sim->scenario().name));
    w.field("seed", qint64(m_sim->options().seed));
    w.field("speed", m_options.speed);
    w.key("time");
    w.timestamp(m_sim->now());
    w.field("workers", m_sim->workerCount());
    w.field("regions", m_sim->regionCount());
    w.field("sequence", m_sim->events().lastId());
    w.field("events_retained", m_sim->events().size());
    w.field("event_buffer_capacity", m_sim->events().capacity());
    w.field("event_streams", streamCount());
    w.field("heartbeat_ms", m_options.heartbeatMs);
    w.endObject();
    return jsonReply(body);
}

FleetSimServer::Reply FleetSimServer::postSimAdvance(const Call &call)
{
    const QJsonObject body = QJsonDocument::fromJson(call.request->body()).object();
    const int seconds = body.value(QLatin1String("seconds")).toInt(0);
    if (seconds < 1 || seconds > 7 * 86400)
        return invalidParam(call.path, QStringLiteral("seconds"), QStringLiteral("must be from 1 to 604800"));
    m_sim->advance(seconds);
    Q_EMIT stepped(m_sim->now());
    return getSimStatus(call);
}

FleetSimServer::Reply FleetSimServer::postSimSpeed(const Call &call)
{
    const QJsonValue speed = QJsonDocument::fromJson(call.request->body()).object().value(QLatin1String("speed"));
    if (!speed.isDouble() || speed.toDouble() < 0 || speed.toDouble() > 10000)
        return invalidParam(
            call.path, QStringLiteral("speed"), QStringLiteral("must be a number from 0 (paused) to 10000"));
    setSpeed(speed.toDouble());
    return getSimStatus(call);
}

FleetSimServer::Reply FleetSimServer::postSimConditions(const Call &call)
{
    const QJsonObject body = QJsonDocument::fromJson(call.request->body()).object();
    const int r = m_sim->regionIndex(body.value(QLatin1String("region")).toString());
    if (r < 0)
        return invalidParam(
            call.path, QStringLiteral("region"), QStringLiteral("is required and must be a known region id"));
    std::optional<double> loss;
    std::optional<double> rtt;
    if (body.contains(QLatin1String("packet_loss"))) {
        loss = body.value(QLatin1String("packet_loss")).toDouble(-1);
        if (*loss < 0 || *loss > 1)
            return invalidParam(call.path, QStringLiteral("packet_loss"), QStringLiteral("must be from 0 to 1"));
    }
    if (body.contains(QLatin1String("rtt_ms"))) {
        rtt = body.value(QLatin1String("rtt_ms")).toDouble(-1);
        if (*rtt <= 0)
            return invalidParam(call.path, QStringLiteral("rtt_ms"), QStringLiteral("must be above 0"));
    }
    const int ramp = body.value(QLatin1String("ramp_s")).toInt(0);
    m_sim->setConditions(r, loss, rtt, std::max(0, ramp));
    AuditEntry entry;
    entry.actor = call.who.name;
    entry.role = call.who.role;
    entry.action = QStringLiteral("sim.conditions");
    entry.target = m_sim->region(r).id;
    entry.result = QStringLiteral("succeeded");
    entry.detail = QString::fromUtf8(QJsonDocument(body).toJson(QJsonDocument::Compact));
    m_sim->recordAudit(entry);
    return getRegion(Call { call.request, call.path, { m_sim->region(r).id }, call.query, call.who, false });
}

FleetSimServer::Reply FleetSimServer::getSimFaults(const Call &)
{
    return jsonReply(
        QJsonDocument(QJsonObject { { QStringLiteral("items"), m_faults.list() } }).toJson(QJsonDocument::Compact));
}

FleetSimServer::Reply FleetSimServer::postSimFault(const Call &call)
{
    const QJsonObject spec = QJsonDocument::fromJson(call.request->body()).object();
    const QString type = spec.value(QLatin1String("type")).toString();
    QString id;
    if (type == QLatin1String("cut_streams")) {
        cutStreams(spec.value(QLatin1String("mode")).toString() == QLatin1String("reset"));
        id = QStringLiteral("cut_streams");
    } else if (type == QLatin1String("restart")) {
        // A restart that loses the in-memory event buffer: streams drop, resuming clients get a resync event.
        cutStreams(false);
        m_sim->events().loseAll();
        id = QStringLiteral("restart");
    } else {
        QString error;
        const Result<QString> added = m_faults.add(spec);
        id = added ? added.value() : QString();
        error = added ? QString() : added.error();
        if (id.isEmpty())
            return invalidParam(call.path, QStringLiteral("type"), error);
    }
    AuditEntry entry;
    entry.actor = call.who.name;
    entry.role = call.who.role;
    entry.action = QStringLiteral("sim.fault");
    entry.target = type;
    entry.result = QStringLiteral("succeeded");
    entry.detail = QString::fromUtf8(QJsonDocument(spec).toJson(QJsonDocument::Compact));
    m_sim->recordAudit(entry);
    return jsonReply(QJsonDocument(QJsonObject { { QStringLiteral("id"), id }, { QStringLiteral("type"), type } })
                         .toJson(QJsonDocument::Compact),
        201);
}

FleetSimServer::Reply FleetSimServer::deleteSimFaults(const Call &)
{
    m_faults.clear();
    return jsonReply(QByteArrayLiteral("{\"items\":[]}"));
}

} // namespace fleet::sim
