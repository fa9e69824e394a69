// The console's writes against hostile servers (issue #15): the actions (ActionController through a FleetSession)
// and the status page (StatuspageClient and the durable StatusOutbox) answered by a captive portal, an oversized or
// deeply nested body, markup, control characters and invalid UTF-8 in every text, far-future times, a huge
// Retry-After, and a redirect to another origin. Checked in every case: a clear error in words, no second operation
// or incident while the first is unconfirmed, nothing lost from the outbox, the key and token never sent to another
// origin, and the GUI thread never blocked past the lag limit (FLEET_LAG_LIMIT_MS, 50 by default).

#include "actioncontroller.h"
#include "fleetsession.h"
#include "hostileserver.h"
#include "lagprobe.h"
#include "localstore.h"
#include "statusoutbox.h"
#include "statuspage.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace fleet;
using namespace fleet::statuspage;

namespace {

constexpr QLatin1String kHostileText("<b>bold</b><script>alert(1)</script>\x1b[31m\x07\r\nforged line");

QByteArray operatorMe()
{
    return R"({"id":"olu","name":"olu","role":"operator","roles":["viewer","operator"],)"
           R"("server_time":"2025-11-12T09:00:00Z"})";
}

// A fleet that is well behaved except for `actions` (POST and GET /v1/operations*, /v1/regions/*/provision).
HostileServer::Handler fleetWith(std::function<void(QTcpSocket *, const HostileServer::Request &)> actions)
{
    return [actions](QTcpSocket *s, const HostileServer::Request &r) {
        if (r.path.startsWith("/v1/me"))
            HostileServer::reply(s, 200, "application/json", operatorMe());
        else if (r.path.startsWith("/v1/fleet/snapshot"))
            HostileServer::reply(s, 200, "application/json", snapshotJson(1));
        else if (r.path.startsWith("/v1/events")) {
            HostileServer::beginStream(s, { { "X-Heartbeat-Interval-Ms", "60000" } });
            s->write(": heartbeat\n\n"); // live; the test is short enough for no second one to be needed
        } else if (r.path.startsWith("/v1/operations") || r.path.contains("/provision"))
            actions(s, r);
        else
            HostileServer::reply(s, 404, "application/json", R"({"title":"not found"})");
    };
}

QByteArray captivePortal()
{
    return "<html><head><title>Hotel WiFi</title></head><body><form>Accept the terms to continue</form>"
           "<script>location='http://login.example/'</script></body></html>";
}

QByteArray nested(int depth)
{
    return QByteArray(depth, '[') + QByteArray(depth, ']');
}

int lagLimitMs()
{
    bool ok = false;
    const int limit = qEnvironmentVariableIntValue("FLEET_LAG_LIMIT_MS", &ok);
    return ok && limit > 0 ? limit : 50;
}

struct Console
{
    explicit Console(const HostileServer &server)
    {
        QVERIFY(dir.isValid());
        session.openLocalStore(dir.filePath(QStringLiteral("store.sqlite")));
        session.setClientAdjuster([](ClientConfig &c) {
            c.requestTimeoutMs = 2000;
            c.backoffBaseMs = 200;
            c.backoffCapMs = 1000;
        });
        ConnectionProfile p;
        p.name = QStringLiteral("hostile");
        p.url = QUrl(QString::fromLatin1(server.origin()));
        session.connectTo(p, QStringLiteral("op-token-never-elsewhere"));
    }
    bool ready() const { return session.isLive() && session.identity().has_value(); }
    const ActionController::Tracked *tracked(int handle) const { return session.actions()->find(handle); }
    QTemporaryDir dir;
    FleetSession session;
};

StatusPageConfig pageAt(const HostileServer &server)
{
    StatusPageConfig c;
    c.baseUrl = QUrl(QString::fromLatin1(server.origin()) + QStringLiteral("/v1"));
    c.pageId = QStringLiteral("page1");
    c.apiKey = QStringLiteral("page-key-never-elsewhere");
    c.requestTimeoutMs = 2000;
    return c;
}

// A status outbox on its own SQLite file, delivering to `page`.
struct PageOutbox
{
    explicit PageOutbox(const HostileServer &page)
    {
        QVERIFY(store.open(dir.filePath(QStringLiteral("store.sqlite"))).ok());
        outbox.setConfig(pageAt(page));
    }
    LocalStore::OutboxEntry first() const { return outbox.entries().front(); }
    QTemporaryDir dir;
    LocalStore store;
    StatusOutbox outbox { &store };
};

IncidentChange opening(const QString &name)
{
    IncidentChange c;
    c.name = name;
    c.status = QStringLiteral("investigating");
    c.body = QStringLiteral("We are investigating.");
    c.deliverNotifications = false;
    return c;
}

// An incident the page might answer with: every text hostile, times far in the future, `updates` updates.
QByteArray hostileIncident(int updates, const QByteArray &bodyText)
{
    QByteArray list;
    for (int i = 0; i < updates; ++i) {
        if (i)
            list += ',';
        list += R"({"id":"u)" + QByteArray::number(i) + R"(","status":"investigating","body":")" + bodyText
            + R"(","created_at":"9999-12-31T23:59:59Z","display_at":"9999-12-31T23:59:59Z"})";
    }
    return "{\"id\":\"inc<1>\",\"name\":\"<img src=x onerror=alert(1)>\\u001b[2J\\u0007"
           "\xff\xfe invalid utf-8"
           R"(","status":"investigating","impact":"critical","created_at":"9999-12-31T23:59:59Z",)"
           "\"updated_at\":\"+275760-09-13T00:00:00Z\",\"shortlink\":\"javascript:alert(1)\",\"metadata\":{},"
           R"("incident_updates":[)"
        + list + "]}";
}

// Requests that change something (the reads are lookups).
int writes(const HostileServer &server)
{
    int n = 0;
    for (const HostileServer::Request &r : server.requests())
        n += r.method != "GET";
    return n;
}

// Each text a person could see: markup stays literal characters (never parsed), and no control character but tab
// and newline reaches it.
void verifyShownAsText(const QString &text)
{
    for (const QChar c : text) {
        const char16_t u = c.unicode();
        const bool control = u < 0x20 ? (u != u'\t' && u != u'\n') : (u >= 0x7f && u <= 0x9f);
        QVERIFY2(!control,
            qPrintable(QStringLiteral("control character U+%1 in \"%2\"").arg(c.unicode(), 4, 16).arg(text.left(80))));
    }
}

// An operation as the Fleet API sends it, for servers that answer with the wrong one.
QByteArray operationJson(const QByteArray &id, const QByteArray &type, const QByteArray &region, int count,
    const QByteArray &arch, const QByteArray &key, const QByteArray &state = "running")
{
    return R"({"id":")" + id + R"(","type":")" + type + R"(","state":")" + state + R"(","region":")" + region
        + R"(","worker":null,"params":{"count":)" + QByteArray::number(count) + R"(,"arch":")" + arch
        + R"("},"progress":{"done":0,"total":1},"reason":"someone else's","requested_by":"ana","idempotency_key":)"
        + (key.isEmpty() ? QByteArray("null") : '"' + key + '"')
        + R"(,"created_at":"2025-11-12T09:00:00Z","updated_at":"2025-11-12T09:00:00Z","finished_at":null,)"
          R"("expires_at":null,"message":""})";
}

QByteArray page(const QList<QByteArray> &items)
{
    QByteArray joined;
    for (const QByteArray &i : items)
        joined += (joined.isEmpty() ? "" : ",") + i;
    return R"({"items":[)" + joined + R"(],"next_cursor":null,"total":)" + QByteArray::number(items.size()) + "}";
}

// An incident as the status page sends it; `metadata` is its metadata object (our keys, or {} when dropped).
QByteArray pageIncident(const QByteArray &id, const QByteArray &name, const QByteArray &status,
    const QByteArray &metadata, const QDateTime &createdAt, const QByteArray &updates = "[]")
{
    const QByteArray at = createdAt.toUTC().toString(Qt::ISODate).toLatin1();
    return R"({"id":")" + id + R"(","name":")" + name + R"(","status":")" + status
        + R"(","impact":"minor","created_at":")" + at + R"(","updated_at":")" + at + R"(","metadata":)" + metadata
        + R"(,"incident_updates":)" + updates + "}";
}

QByteArray consoleMetadata(const QByteArray &incidentKey, const QByteArray &updateKey)
{
    return R"({"fleet_console":{"key":")" + incidentKey + R"(","update":")" + updateKey + R"("}})";
}

// The JSON request body's incident object.
QJsonObject incidentOf(const HostileServer::Request &r)
{
    return QJsonDocument::fromJson(r.body).object().value(QLatin1String("incident")).toObject();
}

} // namespace

class TestHostileWrites : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init() { m_probe = std::make_unique<LagProbe>(); }
    void cleanup()
    {
        const LagProbe::Figures f = m_probe->figures();
        qInfo("GUI thread lag: p99 %.1f ms, max %.1f ms, blocked at most %.1f ms", f.p99Ms, f.maxMs, f.blockedMaxMs);
        QVERIFY2(f.blockedMaxMs <= lagLimitMs(),
            qPrintable(QStringLiteral("the GUI thread was blocked for %1 ms (limit %2 ms)")
                           .arg(f.blockedMaxMs)
                           .arg(lagLimitMs())));
        m_probe.reset();
    }

    void provisionAnsweredByACaptivePortal()
    {
        // The POST and the key lookups all get the portal's page; then the portal lets us through and the fleet
        // turns out never to have had the request: it is sent again, once, and done.
        bool portal = true;
        QByteArray key;
        HostileServer server(fleetWith([&](QTcpSocket *s, const HostileServer::Request &r) {
            if (portal)
                return HostileServer::reply(s, 200, "text/html", captivePortal());
            if (r.method == "GET") // the lookup by key: nothing yet
                return HostileServer::reply(s, 200, "application/json", R"({"items":[],"next_cursor":null,"total":0})");
            key = r.header("idempotency-key");
            HostileServer::reply(s, 201, "application/json",
                R"({"id":"op-000001","type":"provision","state":"succeeded","region":"eu-west","worker":null,)"
                R"("params":{"count":1,"arch":"amd64"},"progress":{"done":1,"total":1},"reason":"portal",)"
                R"("requested_by":"olu","idempotency_key":")"
                    + key
                    + R"(","created_at":"2025-11-12T09:00:00Z","updated_at":"2025-11-12T09:00:00Z",)"
                      R"("finished_at":"2025-11-12T09:00:00Z","expires_at":null,"message":"done"})");
        }));
        Console c(server);
        QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 10000);
        const int h = c.session.actions()->perform(
            FleetAction::provision(QStringLiteral("eu-west"), 1, Arch::Amd64, QStringLiteral("portal")));
        QTRY_COMPARE_WITH_TIMEOUT(c.tracked(h)->phase, ActionController::Phase::Uncertain, 10000);
        const QString why = c.tracked(h)->message;
        QVERIFY2(why.contains(QLatin1String("text/html")) || why.contains(QLatin1String("JSON")), qPrintable(why));
        QTest::qWait(3000); // lookups keep getting the portal
        QCOMPARE(server.count("/v1/regions/eu-west/provision"), 1); // never sent again while unconfirmed
        // Between two look-ups it is uncertain again (during one it is "pending: looking up", which a check at
        // a fixed moment may catch: CI did).
        QTRY_COMPARE_WITH_TIMEOUT(c.tracked(h)->phase, ActionController::Phase::Uncertain, 10000);
        QCOMPARE(server.count("/v1/regions/eu-west/provision"), 1);
        portal = false;
        // Looked up again on a backoff although the connection never dropped (2 s doubling, with jitter).
        // (Accepted and followed: the operation's workers never appear in this fleet, so it is not "done".)
        QTRY_COMPARE_WITH_TIMEOUT(c.tracked(h)->phase, ActionController::Phase::Following, 40000);
        QCOMPARE(server.count("/v1/regions/eu-west/provision"), 2); // after a lookup that found nothing
        QCOMPARE(c.tracked(h)->operationId, QStringLiteral("op-000001"));
        QVERIFY(!key.isEmpty());
    }

    void provisionAnswersThatCannotBeRead_data()
    {
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("deeply nested") << QByteArray("application/json") << nested(200000);
        QTest::newRow("invalid UTF-8") << QByteArray("application/json")
                                       << QByteArray(R"({"id":"op-1","type":")"
                                                     "\xff\xfe\xfd"
                                                     R"("})");
        QTest::newRow("wrong types") << QByteArray("application/json")
                                     << QByteArray(R"({"id":7,"type":["provision"],"state":{"a":1}})");
        QTest::newRow("24 MB of one string (an operation's limit is 1 MB)")
            << QByteArray("application/json") << (R"({"id":")" + QByteArray(24 * 1024 * 1024, char(120)) + R"("})");
    }
    void provisionAnswersThatCannotBeRead()
    {
        QFETCH(QByteArray, contentType);
        QFETCH(QByteArray, body);
        HostileServer server(fleetWith(
            [&](QTcpSocket *s, const HostileServer::Request &) { HostileServer::reply(s, 201, contentType, body); }));
        Console c(server);
        QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 10000);
        const int h = c.session.actions()->perform(
            FleetAction::provision(QStringLiteral("eu-west"), 1, Arch::Amd64, QStringLiteral("unreadable")));
        QTRY_COMPARE_WITH_TIMEOUT(c.tracked(h)->phase, ActionController::Phase::Uncertain, 15000);
        const QString why = c.tracked(h)->message;
        QVERIFY2(!why.isEmpty() && why.size() < 1000, qPrintable(why.left(300)));
        verifyShownAsText(why);
        QTest::qWait(1500);
        QCOMPARE(server.count("/v1/regions/eu-west/provision"), 1);
    }

    void hostileOperationTextStaysText()
    {
        // A readable operation whose every text is hostile and whose times are far in the future.
        HostileServer server(fleetWith([&](QTcpSocket *s, const HostileServer::Request &r) {
            if (r.method == "GET")
                return HostileServer::reply(s, 200, "application/json", R"({"items":[],"next_cursor":null,"total":0})");
            const QString hostile = kHostileText;
            QJsonObject op;
            const auto set = [&op](const char *key, const QJsonValue &v) { op.insert(QLatin1String(key), v); };
            set("id", QStringLiteral("op-000009"));
            set("type", QStringLiteral("provision"));
            set("state", QStringLiteral("running"));
            set("region", QStringLiteral("eu-west"));
            set("worker", QJsonValue());
            set("params",
                QJsonObject({ { QStringLiteral("count"), 1 }, { QStringLiteral("arch"), QStringLiteral("amd64") } }));
            set("progress",
                QJsonObject({ { QStringLiteral("done"), 0 }, { QStringLiteral("total"), 9007199254740993.0 } }));
            set("reason", hostile);
            set("requested_by", hostile);
            set("idempotency_key", QString::fromLatin1(r.header("idempotency-key")));
            set("created_at", QStringLiteral("9999-12-31T23:59:59Z"));
            set("updated_at", QStringLiteral("+275760-09-13T00:00:00Z"));
            set("finished_at", QJsonValue());
            set("expires_at", QStringLiteral("9999-12-31T23:59:59Z"));
            set("message", QString(hostile + hostile));
            HostileServer::reply(s, 201, "application/json", QJsonDocument(op).toJson(QJsonDocument::Compact));
        }));
        Console c(server);
        QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 10000);
        const int h = c.session.actions()->perform(
            FleetAction::provision(QStringLiteral("eu-west"), 1, Arch::Amd64, QStringLiteral("hostile text")));
        QTRY_VERIFY_WITH_TIMEOUT(c.tracked(h)->phase != ActionController::Phase::Sending, 10000);
        const auto *t = c.tracked(h);
        // Accepted or not, the words about it are plain text of bounded length, and one request was made.
        QVERIFY2(t->message.size() < 2000, qPrintable(t->message.left(300)));
        verifyShownAsText(t->message);
        QCOMPARE(server.count("/v1/regions/eu-west/provision"), 1);
    }

    void pageBehindACaptivePortalKeepsTheUpdateQueued_data()
    {
        QTest::addColumn<int>("writeStatus");
        QTest::newRow("every answer the portal's page") << 200;
        // A 502 leaves the create's outcome unknown: the client looks for it at once, gets the portal's page, and
        // must not take that for "not there".
        QTest::newRow("the create a proxy's 502, the look-ups the portal") << 502;
    }
    void pageBehindACaptivePortalKeepsTheUpdateQueued()
    {
        QFETCH(int, writeStatus);
        HostileServer page([writeStatus](QTcpSocket *s, const HostileServer::Request &r) {
            HostileServer::reply(s, r.method == "GET" ? 200 : writeStatus, "text/html", captivePortal());
        });
        PageOutbox o(page);
        StatusOutbox &outbox = o.outbox;
        QVERIFY(outbox.open(opening(QStringLiteral("Builds failing"))).ok());
        QTRY_VERIFY_WITH_TIMEOUT(
            o.first().attempts >= 1 && !o.first().lastError.isEmpty() && o.first().state == QLatin1String("queued"),
            10000);
        QTest::qWait(3000); // the lookups get the portal too
        const LocalStore::OutboxEntry e = o.first();
        QCOMPARE(e.state, QStringLiteral("queued")); // not failed, not delivered: it may have gone through
        QVERIFY2(outbox.summary().contains(QLatin1String("1 status update queued")), qPrintable(outbox.summary()));
        verifyShownAsText(outbox.summary());
        QCOMPARE(writes(page), 1); // one create; every later request a lookup
        // Every attempt is in the local audit log.
        const auto journal = o.store.journal();
        QVERIFY(journal.ok());
        int attempts = 0;
        for (const auto &j : *journal)
            attempts += j.outcome.startsWith(QLatin1String("queued: attempt"));
        QVERIFY2(attempts >= 1, "no attempt recorded");
    }

    void pageAnswersThatCannotBeRead_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("deeply nested") << nested(200000);
        QTest::newRow("5000 updates") << hostileIncident(5000, "x");
        QTest::newRow("truncated") << hostileIncident(2, "x").left(100);
        QTest::newRow("17 MB body (the cap is 16)") << hostileIncident(1, QByteArray(17 * 1024 * 1024, 'y'));
    }
    void pageAnswersThatCannotBeRead()
    {
        QFETCH(QByteArray, body);
        HostileServer page([&](QTcpSocket *s, const HostileServer::Request &r) {
            if (r.method == "GET") // lookups: nothing unresolved
                return HostileServer::reply(s, 200, "application/json", "[]");
            HostileServer::reply(s, 201, "application/json", body);
        });
        StatuspageClient client(pageAt(page));
        QObject context;
        std::optional<ApiResult<Incident>> result;
        client.create(
            opening(QStringLiteral("Builds failing")), &context, [&](ApiResult<Incident> r) { result = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(result.has_value(), 15000);
        QVERIFY(!result->ok());
        const QString why = result->error().message;
        QVERIFY2(!why.isEmpty() && why.size() < 1000, qPrintable(why.left(300)));
        verifyShownAsText(why);
    }

    void hostileIncidentTextIsBoundedAndPlain()
    {
        HostileServer page([&](QTcpSocket *s, const HostileServer::Request &) {
            HostileServer::reply(
                s, 201, "application/json", hostileIncident(3, QByteArray(200000, 'z') + "<b>\\u001b[31m\\u0000"));
        });
        PageOutbox o(page);
        StatusOutbox &outbox = o.outbox;
        QSignalSpy delivered(&outbox, &StatusOutbox::delivered);
        QSignalSpy failed(&outbox, &StatusOutbox::failed);
        QVERIFY(outbox.open(opening(QStringLiteral("Builds failing"))).ok());
        QTRY_VERIFY_WITH_TIMEOUT(!delivered.isEmpty() || o.first().attempts >= 1, 10000);
        QTest::qWait(500);
        if (!delivered.isEmpty()) {
            // Read: every text bounded.
            const auto incident = delivered.front().at(1).value<Incident>();
            QVERIFY(incident.name.size() <= 1000);
            for (const IncidentUpdate &u : incident.updates)
                QVERIFY(u.body.size() <= 100000);
        } else {
            // Refused as unreadable: held with a reason in words, never failed for good.
            QVERIFY(failed.isEmpty());
            QVERIFY(!o.first().lastError.isEmpty());
        }
        verifyShownAsText(outbox.summary());
        verifyShownAsText(StatusOutbox::describe(o.first()));
    }

    void hugeRetryAfterIsReportedNotObeyedBlindly()
    {
        HostileServer page([](QTcpSocket *s, const HostileServer::Request &r) {
            if (r.method == "GET")
                return HostileServer::reply(s, 200, "application/json", "[]");
            HostileServer::reply(
                s, 420, "application/json", R"({"error":"Rate limited"})", { { "Retry-After", "99999999999" } });
        });
        PageOutbox o(page);
        StatusOutbox &outbox = o.outbox;
        QVERIFY(outbox.open(opening(QStringLiteral("Builds failing"))).ok());
        QTRY_VERIFY_WITH_TIMEOUT(!o.first().lastError.isEmpty(), 10000);
        QTest::qWait(2000);
        // Not hammered (one write, then the wait), not dropped, and the reason is shown.
        QCOMPARE(writes(page), 1);
        QCOMPARE(o.first().state, QStringLiteral("queued"));
        QVERIFY2(outbox.summary().contains(QLatin1String("420")) || outbox.summary().contains(QLatin1String("Rate")),
            qPrintable(outbox.summary()));
    }

    void redirectToAnotherOriginCarriesNoKey()
    {
        HostileServer elsewhere([](QTcpSocket *s, const HostileServer::Request &) {
            HostileServer::reply(s, 201, "application/json", hostileIncident(1, "x"));
        });
        HostileServer page([&](QTcpSocket *s, const HostileServer::Request &r) {
            HostileServer::reply(s, 307, "text/plain", "moved", { { "Location", elsewhere.origin() + r.path } });
        });
        HostileServer fleet(fleetWith([&](QTcpSocket *s, const HostileServer::Request &r) {
            HostileServer::reply(s, 307, "text/plain", "moved", { { "Location", elsewhere.origin() + r.path } });
        }));
        // The status page's writes...
        PageOutbox o(page);
        StatusOutbox &outbox = o.outbox;
        QVERIFY(outbox.open(opening(QStringLiteral("Builds failing"))).ok());
        QTRY_VERIFY_WITH_TIMEOUT(!o.first().lastError.isEmpty(), 10000);
        QVERIFY2(o.first().lastError.contains(QLatin1String("redirect")), qPrintable(o.first().lastError));
        // ...and an action.
        Console c(fleet);
        QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 10000);
        const int h = c.session.actions()->perform(
            FleetAction::provision(QStringLiteral("eu-west"), 1, Arch::Amd64, QStringLiteral("redirected")));
        QTRY_VERIFY_WITH_TIMEOUT(c.tracked(h)->phase != ActionController::Phase::Sending, 10000);
        QVERIFY2(c.tracked(h)->message.contains(QLatin1String("redirect")), qPrintable(c.tracked(h)->message));
        QTest::qWait(500);
        QCOMPARE(elsewhere.requests().size(), 0); // nothing followed the redirect, so no key or token left home
    }

    // ---- issue #20: writes that can be trusted on a bad network ----

    void anAnswerForAnotherActionIsNotTakenForThisOne_data()
    {
        QTest::addColumn<QByteArray>("type");
        QTest::addColumn<QByteArray>("region");
        QTest::addColumn<int>("count");
        QTest::addColumn<QByteArray>("arch");
        QTest::addColumn<bool>("ourKey");
        QTest::addColumn<QString>("differs");
        QTest::newRow("a drain of another region")
            << QByteArray("drain_region") << QByteArray("us-east") << 0 << QByteArray("amd64") << true
            << QStringLiteral("type, region, count");
        QTest::newRow("a provision elsewhere") << QByteArray("provision") << QByteArray("us-west") << 1
                                               << QByteArray("amd64") << true << QStringLiteral("region");
        QTest::newRow("another count") << QByteArray("provision") << QByteArray("eu-west") << 10 << QByteArray("amd64")
                                       << true << QStringLiteral("count");
        QTest::newRow("another architecture") << QByteArray("provision") << QByteArray("eu-west") << 1
                                              << QByteArray("aarch64") << true << QStringLiteral("architecture");
        QTest::newRow("another request's key") << QByteArray("provision") << QByteArray("eu-west") << 1
                                               << QByteArray("amd64") << false << QStringLiteral("idempotency key");
    }
    void anAnswerForAnotherActionIsNotTakenForThisOne()
    {
        QFETCH(QByteArray, type);
        QFETCH(QByteArray, region);
        QFETCH(int, count);
        QFETCH(QByteArray, arch);
        QFETCH(bool, ourKey);
        QFETCH(QString, differs);
        HostileServer server(fleetWith([&](QTcpSocket *s, const HostileServer::Request &r) {
            if (r.method == "GET")
                return HostileServer::reply(s, 200, "application/json", page({}));
            HostileServer::reply(s, 201, "application/json",
                operationJson("op-000007", type, region, count, arch,
                    ourKey ? r.header("idempotency-key") : QByteArray("someone-elses-key")));
        }));
        Console c(server);
        QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 10000);
        const int h = c.session.actions()->perform(
            FleetAction::provision(QStringLiteral("eu-west"), 1, Arch::Amd64, QStringLiteral("replacements")));
        QTRY_VERIFY_WITH_TIMEOUT(c.tracked(h)->phase != ActionController::Phase::Sending, 10000);
        const auto *t = c.tracked(h);
        QCOMPARE(t->phase, ActionController::Phase::Mismatched);
        QVERIFY(t->operationId.isEmpty()); // not followed
        QVERIFY2(t->message.contains(QStringLiteral("(%1 differ)").arg(differs)), qPrintable(t->message));
        QVERIFY2(
            t->message.contains(QLatin1String("asked: provision 1 amd64 worker in eu-west")), qPrintable(t->message));
        QVERIFY2(t->message.contains(QLatin1String("answered: op-000007")), qPrintable(t->message));
        QTest::qWait(1500);
        QCOMPARE(server.count("/v1/regions/eu-west/provision"), 1);
        QCOMPARE(c.tracked(h)->phase, ActionController::Phase::Mismatched);
        // The local audit log says so too.
        const auto journal = c.session.localStore()->journal(10);
        QVERIFY(journal.ok() && !journal->isEmpty());
        QVERIFY2(journal->front().outcome.startsWith(QLatin1String("answered with another operation")),
            qPrintable(journal->front().outcome));
    }

    void aLookUpThatIgnoresTheKeyProvesNothing()
    {
        // The provision's answer is lost (the connection closes after the body); the look-up by key answers with
        // someone else's operation: the server ignored the filter. Neither "done" nor sent again.
        HostileServer server(fleetWith([&](QTcpSocket *s, const HostileServer::Request &r) {
            if (r.method == "GET")
                return HostileServer::reply(s, 200, "application/json",
                    page({ operationJson(
                        "op-000003", "provision", "eu-west", 1, "amd64", "another-key", "succeeded") }));
            s->disconnectFromHost();
        }));
        Console c(server);
        QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 10000);
        const int h = c.session.actions()->perform(
            FleetAction::provision(QStringLiteral("eu-west"), 1, Arch::Amd64, QStringLiteral("replacements")));
        QTRY_VERIFY_WITH_TIMEOUT(
            c.tracked(h)->message.contains(QLatin1String("ignored the key")), 20000); // the backoff's look-up
        QCOMPARE(c.tracked(h)->phase, ActionController::Phase::Uncertain);
        QVERIFY(c.tracked(h)->operationId.isEmpty());
        QCOMPARE(server.count("/v1/regions/eu-west/provision"), 1);
        // The engineer gives up: recorded as not known to have happened, with the key to check by.
        c.session.actions()->giveUp(h);
        QCOMPARE(c.tracked(h)->phase, ActionController::Phase::Abandoned);
        QVERIFY2(
            c.tracked(h)->message.contains(c.tracked(h)->action.idempotencyKey), qPrintable(c.tracked(h)->message));
    }

    void anOperationIdFromTheServerNeverBecomesAPath()
    {
        // A 409 naming the operation in the way as ".." (QUrl would fold /v1/operations/.. into /v1).
        HostileServer server(fleetWith([&](QTcpSocket *s, const HostileServer::Request &) {
            HostileServer::reply(s, 409, "application/problem+json",
                R"({"type":"about:blank","title":"Conflict","status":409,"detail":"already draining","operation":".."})");
        }));
        Console c(server);
        QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 10000);
        const int h
            = c.session.actions()->perform(FleetAction::drainRegion(QStringLiteral("eu-west"), QStringLiteral("x")));
        QTRY_VERIFY_WITH_TIMEOUT(c.tracked(h)->isFinal(), 10000);
        QCOMPARE(c.tracked(h)->phase, ActionController::Phase::Refused);
        QTest::qWait(500);
        for (const HostileServer::Request &r : server.requests()) {
            QVERIFY2(
                r.path != "/v1" && r.path != "/v1/" && !r.path.startsWith("/v1/operations/.."), r.path.constData());
        }
    }

    void aCreateWhoseAnswerIsLostIsFoundWhereverItIs_data()
    {
        QTest::addColumn<int>("where");
        QTest::newRow("on the second page of unresolved incidents") << 0;
        QTest::newRow("resolved since, in the incident list only") << 1;
        QTest::newRow("the page dropped our metadata") << 2;
    }
    void aCreateWhoseAnswerIsLostIsFoundWhereverItIs()
    {
        QFETCH(int, where);
        QByteArray ours;
        QList<QByteArray> others;
        for (int i = 0; i < 100; ++i)
            others << pageIncident("other" + QByteArray::number(i), "Something else", "investigating", "{}",
                QDateTime::currentDateTimeUtc());
        HostileServer server([&](QTcpSocket *s, const HostileServer::Request &r) {
            if (r.method == "POST") {
                const QJsonObject in = incidentOf(r);
                const QJsonObject mine
                    = in.value(QLatin1String("metadata")).toObject().value(QLatin1String("fleet_console")).toObject();
                ours = pageIncident("inc42", in.value(QLatin1String("name")).toString().toUtf8(),
                    where == 1 ? "resolved" : "investigating",
                    where == 2 ? QByteArray("{}")
                               : consoleMetadata(mine.value(QLatin1String("key")).toString().toUtf8(),
                                   mine.value(QLatin1String("update")).toString().toUtf8()),
                    QDateTime::currentDateTimeUtc());
                s->abort(); // it acted; the answer is lost
                return;
            }
            QList<QByteArray> list;
            if (r.path.contains("/unresolved")) {
                if (r.path.contains("page=1"))
                    list = others;
                else if (r.path.contains("page=2") && where != 1 && !ours.isEmpty())
                    list << ours;
            } else if (r.path.contains("/incidents?")) {
                if (r.path.contains("page=1"))
                    list = others.mid(0, 99) << ours;
            }
            HostileServer::reply(s, 200, "application/json", "[" + list.join(',') + "]");
        });
        PageOutbox o(server);
        QSignalSpy delivered(&o.outbox, &StatusOutbox::delivered);
        QVERIFY(o.outbox.open(opening(QStringLiteral("Builds failing"))).ok());
        QTRY_COMPARE_WITH_TIMEOUT(o.first().state, QStringLiteral("delivered"), 20000);
        QCOMPARE(o.first().result, QStringLiteral("inc42"));
        QCOMPARE(writes(server), 1);
    }

    void anAbsenceThatCannotBeProvedStaysUnknown()
    {
        // The create's answer is lost; the unresolved list is empty, but the full list (resolved ones too) cannot
        // be read: the page may have it, resolved. Never sent again; shown as unknown; the engineer may give up.
        HostileServer server([&](QTcpSocket *s, const HostileServer::Request &r) {
            if (r.method == "POST")
                return s->abort();
            if (r.path.contains("/unresolved"))
                return HostileServer::reply(s, 200, "application/json", "[]");
            HostileServer::reply(s, 503, "application/json", R"({"error":"maintenance"})");
        });
        PageOutbox o(server);
        QVERIFY(o.outbox.open(opening(QStringLiteral("Builds failing"))).ok());
        QTRY_VERIFY_WITH_TIMEOUT(StatusOutbox::isUnknown(o.first()), 30000);
        QVERIFY2(o.outbox.summary().contains(QLatin1String("outcome unknown")), qPrintable(o.outbox.summary()));
        QTest::qWait(3000); // asked again on a backoff: still unknown, still not sent again
        QCOMPARE(writes(server), 1);
        QCOMPARE(o.first().state, QStringLiteral("queued"));
        QVERIFY(o.outbox.giveUp(o.first().id).ok());
        QCOMPARE(o.first().state, QStringLiteral("failed"));
        QVERIFY2(
            o.first().lastError.contains(QLatin1String("given up by the engineer")), qPrintable(o.first().lastError));
        QTest::qWait(1500);
        QCOMPARE(writes(server), 1);
    }

    void anUpdateWhoseAnswerIsLostIsFoundByItsWords()
    {
        // The page keeps no metadata of ours: the update is recognised by its status and words.
        QByteArray posted;
        HostileServer server([&](QTcpSocket *s, const HostileServer::Request &r) {
            if (r.method == "PATCH") {
                const QJsonObject in = incidentOf(r);
                posted = R"([{"id":"u1","status":")" + in.value(QLatin1String("status")).toString().toUtf8()
                    + R"(","body":")" + in.value(QLatin1String("body")).toString().toUtf8() + R"(","created_at":")"
                    + QDateTime::currentDateTimeUtc().toString(Qt::ISODate).toLatin1() + R"("}])";
                return s->abort();
            }
            HostileServer::reply(s, 200, "application/json",
                pageIncident("inc7", "Builds failing", posted.isEmpty() ? "investigating" : "identified", "{}",
                    QDateTime::currentDateTimeUtc(), posted.isEmpty() ? QByteArray("[]") : posted));
        });
        PageOutbox o(server);
        IncidentChange change;
        change.status = QStringLiteral("identified");
        change.body = QStringLiteral("We have found the cause.");
        change.deliverNotifications = false;
        QVERIFY(o.outbox.update(QStringLiteral("inc7"), change).ok());
        QTRY_COMPARE_WITH_TIMEOUT(o.first().state, QStringLiteral("delivered"), 20000);
        QCOMPARE(writes(server), 1);
    }

    void incidentIdsOutsideTheContractAreRefused()
    {
        HostileServer server([](QTcpSocket *s, const HostileServer::Request &) {
            HostileServer::reply(s, 200, "application/json", hostileIncident(1, "x"));
        });
        PageOutbox o(server);
        IncidentChange change;
        change.status = QStringLiteral("identified");
        change.body = QStringLiteral("words");
        for (const QString &id :
            { QStringLiteral(".."), QStringLiteral("."), QStringLiteral("a/b"), QStringLiteral("$(x)") }) {
            const auto queued = o.outbox.update(id, change);
            QVERIFY(!queued.ok());
            QVERIFY2(queued.error().contains(QLatin1String("not queued")), qPrintable(queued.error()));
        }
        StatuspageClient client(pageAt(server));
        QObject context;
        std::optional<ApiResult<Incident>> result;
        client.update(QStringLiteral(".."), change, &context, [&](ApiResult<Incident> r) { result = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(result.has_value(), 5000);
        QCOMPARE(result->error().kind, ApiError::Kind::Invalid);
        QTest::qWait(300);
        QCOMPARE(server.requests().size(), 0);
    }

    void aKeyEchoedByThePageIsNeverShownOrStored()
    {
        HostileServer server([](QTcpSocket *s, const HostileServer::Request &r) {
            const QByteArray key = r.header("authorization").mid(6); // "OAuth <key>"
            HostileServer::reply(s, 401, "application/json", R"({"error":"the key )" + key + R"( is not valid"})");
        });
        PageOutbox o(server);
        QVERIFY(o.outbox.open(opening(QStringLiteral("Builds failing"))).ok());
        QTRY_VERIFY_WITH_TIMEOUT(!o.first().lastError.isEmpty(), 10000);
        const QString key = pageAt(server).apiKey;
        QVERIFY2(o.first().lastError.contains(QLatin1String("<redacted>")), qPrintable(o.first().lastError));
        QVERIFY(!o.first().lastError.contains(key));
        QVERIFY(!o.outbox.summary().contains(key));
        const auto journal = o.store.journal();
        QVERIFY(journal.ok());
        for (const auto &j : *journal)
            QVERIFY2(!j.outcome.contains(key), qPrintable(j.outcome));
        // Nor in the SQLite file, its WAL included.
        QTest::qWait(200);
        for (const QString &name : QDir(o.dir.path()).entryList(QDir::Files)) {
            QFile f(o.dir.filePath(name));
            QVERIFY(f.open(QIODevice::ReadOnly));
            QVERIFY2(!f.readAll().contains(key.toUtf8()), qPrintable(name));
        }
    }

private:
    std::unique_ptr<LagProbe> m_probe;
};

QTEST_GUILESS_MAIN(TestHostileWrites)
#include "tst_hostilewrites.moc"
