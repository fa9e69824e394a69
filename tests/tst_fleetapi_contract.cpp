// Contract tests: the Fleet API v1 as fleet-sim serves it over real HTTP on loopback.

#include "isotime.h"
#include "simharness.h"

#include <QJsonArray>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSet>
#include <QSignalSpy>
#include <QTest>

using namespace fleet;
using namespace fleet::sim;

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;

Headers key(const QByteArray &k)
{
    return { { "Idempotency-Key", k } };
}

// The parameter a 422 problem document names in invalid_params.
QString invalidParamName(const SimHarness::Response &r)
{
    const QJsonArray params = r.json().value(QLatin1String("invalid_params")).toArray();
    return params.isEmpty() ? QString() : params.first().toObject().value(QLatin1String("name")).toString();
}

// Collects a raw event stream. The real SSE parser lives in api/ (issue #3); this reads the server's own framing.
class StreamReader
{
public:
    StreamReader(SimHarness &sim, const QByteArray &lastEventId = {}, const QByteArray &token = "view-secret")
    {
        QNetworkRequest request(sim.url(QStringLiteral("/v1/events")));
        request.setRawHeader("Authorization", "Bearer " + token);
        request.setRawHeader("Accept", "text/event-stream");
        if (!lastEventId.isEmpty())
            request.setRawHeader("Last-Event-ID", lastEventId);
        m_reply = sim.network().get(request);
        QObject::connect(m_reply, &QNetworkReply::readyRead, m_reply, [this] { m_raw += m_reply->readAll(); });
    }
    ~StreamReader()
    {
        m_reply->abort();
        m_reply->deleteLater();
    }

    QNetworkReply *reply() const { return m_reply; }
    const QByteArray &raw() const { return m_raw; }

    struct Event
    {
        qint64 id = -1;
        QByteArray type;
        QByteArray data;
    };
    QList<Event> events() const
    {
        QList<Event> out;
        for (const QByteArray &block : m_raw.split('\n')) {
            if (block.startsWith("id: ")) {
                out.append(Event {});
                out.back().id = block.mid(4).toLongLong();
            } else if (block.startsWith("event: ") && !out.isEmpty()) {
                out.back().type = block.mid(7);
            } else if (block.startsWith("data: ") && !out.isEmpty()) {
                out.back().data = block.mid(6);
            }
        }
        return out;
    }

private:
    QNetworkReply *m_reply = nullptr;
    QByteArray m_raw;
};

} // namespace

class TestFleetApiContract : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void meReportsIdentityAndRoles_data();
    void meReportsIdentityAndRoles();
    void missingTokenIs401();
    void wrongTokenIs401();
    void viewerActionIs403AndAudited();
    void unknownPathsAre404();
    void wrongMethodIs405();
    void regions();
    void workersPageThroughEveryWorker();
    void workerFilters();
    void snapshotCarriesSequence();
    void healthHistory();
    void healthValidation_data();
    void healthValidation();
    void provisionCreatesOperation();
    void sameKeyTwiceReturnsSameOperation();
    void concurrentSameKeyCreatesOneOperation();
    void keyReuseWithDifferentBodyIs422();
    void missingIdempotencyKeyIs428();
    void dryRunActsOnNothing();
    void badActionInput_data();
    void badActionInput();
    void bodyTooLargeIs413();
    void conflictIs409();
    void operationsCancelAndAudit();
    void rateLimitIs429WithRetryAfter();
    void eventsStreamLive();
    void eventsResumeWithLastEventId();
    void eventsResyncWhenTooOld();
    void eventsResyncAfterRestartLosesBuffer();
    void heartbeatComments();
    void faultErrorsThenRecovers();
    void faultMalformedBody();
    void faultStallPastClientTimeout();
    void faultCutStreams();
    void faultControlsNeedAdmin();
    void metricsInPrometheusFormat();
    void scenarioOverHttpShowsTimeoutsInAffectedRegion();

private:
    std::unique_ptr<SimHarness> m_sim;
};

void TestFleetApiContract::init()
{
    m_sim = std::make_unique<SimHarness>();
}

void TestFleetApiContract::cleanup()
{
    m_sim.reset();
}

void TestFleetApiContract::meReportsIdentityAndRoles_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<QString>("role");
    QTest::addColumn<int>("roles");
    QTest::newRow("viewer") << QByteArray("view-secret") << QStringLiteral("viewer") << 1;
    QTest::newRow("operator") << QByteArray("op-secret") << QStringLiteral("operator") << 2;
    QTest::newRow("admin") << QByteArray("admin-secret") << QStringLiteral("admin") << 3;
}

void TestFleetApiContract::meReportsIdentityAndRoles()
{
    QFETCH(QByteArray, token);
    QFETCH(QString, role);
    QFETCH(int, roles);
    const auto r = m_sim->get(QStringLiteral("/v1/me"), token);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
    const QJsonObject me = r.json();
    QVERIFY(!me.value(QLatin1String("id")).toString().isEmpty());
    QCOMPARE(me.value(QLatin1String("role")).toString(), role);
    QCOMPARE(me.value(QLatin1String("roles")).toArray().size(), roles);
    QVERIFY(me.value(QLatin1String("server_time")).toString().endsWith(u'Z'));
}

void TestFleetApiContract::missingTokenIs401()
{
    const auto r = m_sim->get(QStringLiteral("/v1/regions"), QByteArray());
    QCOMPARE(r.status, 401);
    QCOMPARE(r.header("Content-Type"), QByteArray("application/problem+json"));
    QVERIFY(r.header("WWW-Authenticate").startsWith("Bearer"));
    QCOMPARE(r.json().value(QLatin1String("status")).toInt(), 401);
    QVERIFY(r.json().value(QLatin1String("detail")).toString().contains(QLatin1String("Authorization: Bearer")));
}

void TestFleetApiContract::wrongTokenIs401()
{
    const auto r = m_sim->get(QStringLiteral("/v1/regions"), "not-a-token");
    QCOMPARE(r.status, 401);
    QCOMPARE(r.json().value(QLatin1String("type")).toString(), QStringLiteral("urn:fleet-api:problem:invalid-token"));
    QVERIFY(!r.body.contains("not-a-token")); // the token is never echoed back
}

void TestFleetApiContract::viewerActionIs403AndAudited()
{
    const auto r
        = m_sim->post(QStringLiteral("/v1/regions/eu-central/drain"), R"({"reason":"x"})", "view-secret", key("k"));
    QCOMPARE(r.status, 403);
    QVERIFY(r.json().value(QLatin1String("detail")).toString().contains(QLatin1String("operator")));
    QCOMPARE(m_sim->sim().region(0).dispatchState, DispatchState::Active);
    const auto audit = m_sim->get(QStringLiteral("/v1/audit")).json().value(QLatin1String("items")).toArray();
    QVERIFY(!audit.isEmpty());
    QCOMPARE(audit.first().toObject().value(QLatin1String("result")).toString(), QStringLiteral("rejected"));
    QCOMPARE(audit.first().toObject().value(QLatin1String("actor")).toString(), QStringLiteral("demo-viewer"));
    // An operator may act, but not use simulator controls.
    QCOMPARE(m_sim->post(QStringLiteral("/v1/sim/advance"), R"({"seconds":1})", "op-secret").status, 403);
}

void TestFleetApiContract::unknownPathsAre404()
{
    for (const char *path : { "/v1/nope", "/v1/regions/mars", "/v1/workers/w-999999", "/v1/operations/op-999999",
             "/v1/regions/mars/health" }) {
        const auto r = m_sim->get(QString::fromLatin1(path));
        QCOMPARE(r.status, 404);
        QCOMPARE(r.header("Content-Type"), QByteArray("application/problem+json"));
        QVERIFY(!r.json().value(QLatin1String("detail")).toString().isEmpty());
    }
}

void TestFleetApiContract::wrongMethodIs405()
{
    const auto r = m_sim->send("DELETE", QStringLiteral("/v1/regions"), {}, "op-secret", {});
    QCOMPARE(r.status, 405);
    QCOMPARE(r.header("Allow"), QByteArray("GET"));
}

void TestFleetApiContract::regions()
{
    const auto list = m_sim->get(QStringLiteral("/v1/regions"));
    QCOMPARE(list.status, 200);
    const QJsonArray items = list.json().value(QLatin1String("items")).toArray();
    QCOMPARE(items.size(), 6);
    const QJsonObject first = items.first().toObject();
    for (const char *field :
        { "id", "name", "provider", "location", "dispatch_state", "capacity", "workers_by_state", "network" })
        QVERIFY2(first.contains(QLatin1String(field)), field);
    const auto one = m_sim->get(QStringLiteral("/v1/regions/eu-central"));
    QCOMPARE(one.status, 200);
    QCOMPARE(one.json().value(QLatin1String("location")).toString(), QStringLiteral("Falkenstein, DE"));
    QCOMPARE(one.json().value(QLatin1String("dispatch_state")).toString(), QStringLiteral("active"));
}

void TestFleetApiContract::workersPageThroughEveryWorker()
{
    QSet<QString> seen;
    QString cursor;
    int pages = 0;
    QString previous;
    for (;;) {
        const QString path = QStringLiteral("/v1/workers?limit=50")
            + (cursor.isEmpty() ? QString() : QStringLiteral("&cursor=") + cursor);
        const auto r = m_sim->get(path);
        QCOMPARE(r.status, 200);
        const QJsonObject page = r.json();
        QCOMPARE(page.value(QLatin1String("total")).toInt(), m_sim->sim().workerCount());
        for (const auto &v : page.value(QLatin1String("items")).toArray()) {
            const QString id = v.toObject().value(QLatin1String("id")).toString();
            QVERIFY(id > previous);
            previous = id;
            seen.insert(id);
        }
        ++pages;
        if (page.value(QLatin1String("next_cursor")).isNull())
            break;
        cursor = page.value(QLatin1String("next_cursor")).toString();
    }
    QCOMPARE(seen.size(), m_sim->sim().workerCount());
    QCOMPARE(pages, (m_sim->sim().workerCount() + 49) / 50);
    const auto one = m_sim->get(QStringLiteral("/v1/workers/w-000001"));
    QCOMPARE(one.status, 200);
    QCOMPARE(one.json().value(QLatin1String("id")).toString(), QStringLiteral("w-000001"));
}

void TestFleetApiContract::workerFilters()
{
    m_sim->sim().advance(300);
    const auto r = m_sim->get(QStringLiteral("/v1/workers?region=us-west&arch=aarch64&state=busy&limit=5000"));
    QCOMPARE(r.status, 200);
    const QJsonArray items = r.json().value(QLatin1String("items")).toArray();
    QVERIFY(!items.isEmpty());
    for (const auto &v : items) {
        const QJsonObject w = v.toObject();
        QCOMPARE(w.value(QLatin1String("region")).toString(), QStringLiteral("us-west"));
        QCOMPARE(w.value(QLatin1String("arch")).toString(), QStringLiteral("aarch64"));
        QCOMPARE(w.value(QLatin1String("state")).toString(), QStringLiteral("busy"));
        QVERIFY(w.value(QLatin1String("current_build")).isString());
    }
    QCOMPARE(r.json().value(QLatin1String("total")).toInt(), items.size());
    const auto bad = m_sim->get(QStringLiteral("/v1/workers?state=sleeping"));
    QCOMPARE(bad.status, 422);
    QCOMPARE(invalidParamName(bad), QStringLiteral("state"));
}

void TestFleetApiContract::snapshotCarriesSequence()
{
    m_sim->sim().advance(60);
    const auto r = m_sim->get(QStringLiteral("/v1/fleet/snapshot"));
    QCOMPARE(r.status, 200);
    const QJsonObject snap = r.json();
    QCOMPARE(snap.value(QLatin1String("sequence")).toInteger(), m_sim->sim().events().lastId());
    QCOMPARE(snap.value(QLatin1String("workers")).toArray().size(), m_sim->sim().workerCount());
    QCOMPARE(snap.value(QLatin1String("regions")).toArray().size(), 6);
    QVERIFY(snap.value(QLatin1String("operations")).isArray());
    QCOMPARE(snap.value(QLatin1String("time")).toString(), formatIsoUtc(m_sim->sim().now()));
}

void TestFleetApiContract::healthHistory()
{
    m_sim->sim().advance(600);
    const auto r = m_sim->get(QStringLiteral("/v1/regions/eu-west/health?from=-5m&step=60"));
    QCOMPARE(r.status, 200);
    const QJsonObject h = r.json();
    QCOMPARE(h.value(QLatin1String("region")).toString(), QStringLiteral("eu-west"));
    QCOMPARE(h.value(QLatin1String("step_s")).toInt(), 60);
    const QJsonArray buckets = h.value(QLatin1String("buckets")).toArray();
    QVERIFY(buckets.size() >= 5);
    const QJsonObject full = buckets.at(1).toObject();
    QCOMPARE(full.value(QLatin1String("samples")).toInt(), 60);
    for (const char *field : { "workers_by_state", "builds", "failures", "rtt_ms", "packet_loss", "queue" })
        QVERIFY2(!full.value(QLatin1String(field)).isNull(), field);
    QVERIFY(full.value(QLatin1String("failures")).toObject().contains(QLatin1String("ETIMEDOUT")));
    QVERIFY(full.value(QLatin1String("rtt_ms")).toObject().value(QLatin1String("p95")).toDouble() > 0);
    // Before the simulation began there is no data: explicit gaps, not zeros.
    const auto early = m_sim->get(
        QStringLiteral("/v1/regions/eu-west/health?from=2025-11-12T07:00:00Z&to=2025-11-12T08:00:00Z&step=600"));
    QCOMPARE(early.status, 200);
    const QJsonArray gaps = early.json().value(QLatin1String("buckets")).toArray();
    QCOMPARE(gaps.size(), 6);
    for (const auto &g : gaps) {
        QCOMPARE(g.toObject().value(QLatin1String("samples")).toInt(), 0);
        QVERIFY(g.toObject().value(QLatin1String("packet_loss")).isNull());
    }
}

void TestFleetApiContract::healthValidation_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<QString>("param");
    QTest::newRow("step zero") << QStringLiteral("step=0") << QStringLiteral("step");
    QTest::newRow("step words") << QStringLiteral("step=often") << QStringLiteral("step");
    QTest::newRow("from garbage") << QStringLiteral("from=yesterday") << QStringLiteral("from");
    QTest::newRow("from after to") << QStringLiteral("from=-1m&to=-2m") << QStringLiteral("from");
    QTest::newRow("too many buckets") << QStringLiteral("from=-24h&step=1") << QStringLiteral("step");
}

void TestFleetApiContract::healthValidation()
{
    QFETCH(QString, query);
    QFETCH(QString, param);
    const auto r = m_sim->get(QStringLiteral("/v1/regions/eu-west/health?") + query);
    QCOMPARE(r.status, 422);
    QCOMPARE(invalidParamName(r), param);
}

void TestFleetApiContract::provisionCreatesOperation()
{
    const auto r = m_sim->post(QStringLiteral("/v1/regions/eu-west/provision"),
        R"({"count":4,"arch":"amd64","reason":"replacement workers while eu-central loses packets","expires_at":"2025-11-12T20:00:00Z"})",
        "op-secret", key("prov-1"));
    QCOMPARE(r.status, 201);
    const QJsonObject op = r.json();
    const QString id = op.value(QLatin1String("id")).toString();
    QCOMPARE(r.header("Location"), QByteArray("/v1/operations/") + id.toLatin1());
    QCOMPARE(op.value(QLatin1String("type")).toString(), QStringLiteral("provision"));
    QCOMPARE(op.value(QLatin1String("state")).toString(), QStringLiteral("running"));
    QCOMPARE(op.value(QLatin1String("requested_by")).toString(), QStringLiteral("demo-operator"));
    QCOMPARE(op.value(QLatin1String("expires_at")).toString(), QStringLiteral("2025-11-12T20:00:00Z"));
    QCOMPARE(op.value(QLatin1String("progress")).toObject().value(QLatin1String("total")).toInt(), 4);
    m_sim->admin(QStringLiteral("/v1/sim/advance"), R"({"seconds":900})");
    const auto after = m_sim->get(QStringLiteral("/v1/operations/") + id);
    QCOMPARE(after.json().value(QLatin1String("state")).toString(), QStringLiteral("succeeded"));
    QCOMPARE(after.json().value(QLatin1String("progress")).toObject().value(QLatin1String("done")).toInt(), 4);
}

void TestFleetApiContract::sameKeyTwiceReturnsSameOperation()
{
    const QByteArray body = R"({"count":2,"arch":"aarch64","reason":"r"})";
    const auto first = m_sim->post(QStringLiteral("/v1/regions/us-east/provision"), body, "op-secret", key("same"));
    const auto second = m_sim->post(QStringLiteral("/v1/regions/us-east/provision"), body, "op-secret", key("same"));
    QCOMPARE(first.status, 201);
    QCOMPARE(second.status, 200);
    QCOMPARE(second.header("Idempotent-Replayed"), QByteArray("true"));
    QCOMPARE(second.json().value(QLatin1String("id")), first.json().value(QLatin1String("id")));
    QCOMPARE(m_sim->sim().operations().size(), std::size_t(1));
}

void TestFleetApiContract::concurrentSameKeyCreatesOneOperation()
{
    QList<QNetworkReply *> replies;
    for (int i = 0; i < 8; ++i) {
        QNetworkRequest request(m_sim->url(QStringLiteral("/v1/regions/eu-west/drain")));
        request.setRawHeader("Authorization", "Bearer op-secret");
        request.setRawHeader("Idempotency-Key", "drain-once");
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        replies << m_sim->network().post(request, QByteArray(R"({"reason":"double click"})"));
    }
    QSet<QString> ids;
    int created = 0;
    for (QNetworkReply *reply : replies) {
        if (!reply->isFinished())
            QVERIFY(QSignalSpy(reply, &QNetworkReply::finished).wait(10000));
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        QVERIFY2(status == 201 || status == 200, qPrintable(QString::number(status)));
        created += status == 201;
        ids.insert(QJsonDocument::fromJson(reply->readAll()).object().value(QLatin1String("id")).toString());
        reply->deleteLater();
    }
    QCOMPARE(created, 1);
    QCOMPARE(ids.size(), 1);
    QCOMPARE(m_sim->sim().operations().size(), std::size_t(1));
}

void TestFleetApiContract::keyReuseWithDifferentBodyIs422()
{
    QCOMPARE(m_sim
                 ->post(QStringLiteral("/v1/regions/us-east/provision"), R"({"count":2,"arch":"amd64","reason":"r"})",
                     "op-secret", key("k"))
                 .status,
        201);
    const auto r = m_sim->post(QStringLiteral("/v1/regions/us-east/provision"),
        R"({"count":3,"arch":"amd64","reason":"r"})", "op-secret", key("k"));
    QCOMPARE(r.status, 422);
    QCOMPARE(r.json().value(QLatin1String("type")).toString(),
        QStringLiteral("urn:fleet-api:problem:idempotency-key-reused"));
    QCOMPARE(m_sim->sim().operations().size(), std::size_t(1));
}

void TestFleetApiContract::missingIdempotencyKeyIs428()
{
    const auto r
        = m_sim->post(QStringLiteral("/v1/regions/us-east/provision"), R"({"count":2,"arch":"amd64","reason":"r"})");
    QCOMPARE(r.status, 428);
    QVERIFY(r.json().value(QLatin1String("detail")).toString().contains(QLatin1String("Idempotency-Key")));
    QVERIFY(m_sim->sim().operations().empty());
}

void TestFleetApiContract::dryRunActsOnNothing()
{
    m_sim->sim().advance(300);
    const qint64 events = m_sim->sim().events().lastId();
    const auto r = m_sim->post(QStringLiteral("/v1/regions/eu-central/drain?dry_run=true"), R"({"reason":"preview"})");
    QCOMPARE(r.status, 200);
    const QJsonObject impact = r.json().value(QLatin1String("impact")).toObject();
    QCOMPARE(r.json().value(QLatin1String("dry_run")).toBool(), true);
    QCOMPARE(impact.value(QLatin1String("running_builds")).toInt(),
        m_sim->sim().region(0).workersByState[int(WorkerState::Busy)]);
    QCOMPARE(impact.value(QLatin1String("active_workers_after")).toInt(), 0);
    QVERIFY(!r.json().value(QLatin1String("notes")).toArray().isEmpty());
    QCOMPARE(m_sim->sim().region(0).dispatchState, DispatchState::Active);
    QVERIFY(m_sim->sim().operations().empty());
    QCOMPARE(m_sim->sim().events().lastId(), events);
    const auto provision = m_sim->post(QStringLiteral("/v1/regions/eu-west/provision?dry_run=true"),
        R"({"count":10,"arch":"amd64","reason":"preview"})");
    QCOMPARE(provision.status, 200);
    QCOMPARE(
        provision.json().value(QLatin1String("impact")).toObject().value(QLatin1String("workers_affected")).toInt(),
        10);
}

void TestFleetApiContract::badActionInput_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("param");
    const QString provision = QStringLiteral("/v1/regions/eu-west/provision");
    QTest::newRow("not json") << provision << QByteArray("{\"count\":") << 400 << QString();
    QTest::newRow("array body") << provision << QByteArray("[]") << 400 << QString();
    QTest::newRow("no reason") << provision << QByteArray(R"({"count":1,"arch":"amd64"})") << 422
                               << QStringLiteral("reason");
    QTest::newRow("blank reason") << provision << QByteArray(R"({"count":1,"arch":"amd64","reason":"  "})") << 422
                                  << QStringLiteral("reason");
    QTest::newRow("bad arch") << provision << QByteArray(R"({"count":1,"arch":"sparc","reason":"r"})") << 422
                              << QStringLiteral("arch");
    QTest::newRow("fractional count") << provision << QByteArray(R"({"count":1.5,"arch":"amd64","reason":"r"})") << 422
                                      << QStringLiteral("count");
    QTest::newRow("count as string") << provision << QByteArray(R"({"count":"5","arch":"amd64","reason":"r"})") << 422
                                     << QStringLiteral("count");
    QTest::newRow("too many") << provision << QByteArray(R"({"count":100000,"arch":"amd64","reason":"r"})") << 422
                              << QStringLiteral("count");
    QTest::newRow("expiry in past")
        << provision << QByteArray(R"({"count":1,"arch":"amd64","reason":"r","expires_at":"2020-01-01T00:00:00Z"})")
        << 422 << QStringLiteral("expires_at");
    QTest::newRow("expiry not time") << QStringLiteral("/v1/regions/eu-west/drain")
                                     << QByteArray(R"({"reason":"r","expires_at":"soon"})") << 422
                                     << QStringLiteral("expires_at");
}

void TestFleetApiContract::badActionInput()
{
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(QString, param);
    const auto r = m_sim->post(path, body, "op-secret", key("bad"));
    QCOMPARE(r.status, status);
    QCOMPARE(r.header("Content-Type"), QByteArray("application/problem+json"));
    QVERIFY(!r.json().value(QLatin1String("detail")).toString().isEmpty());
    if (!param.isEmpty())
        QCOMPARE(invalidParamName(r), param);
    QVERIFY(m_sim->sim().operations().empty());
}

void TestFleetApiContract::bodyTooLargeIs413()
{
    const QByteArray huge = R"({"reason":")" + QByteArray(200 * 1024, 'x') + R"("})";
    const auto r = m_sim->post(QStringLiteral("/v1/regions/eu-west/drain"), huge, "op-secret", key("big"));
    QCOMPARE(r.status, 413);
    QCOMPARE(m_sim->sim().region(1).dispatchState, DispatchState::Active);
}

void TestFleetApiContract::conflictIs409()
{
    QCOMPARE(
        m_sim->post(QStringLiteral("/v1/regions/eu-west/drain"), R"({"reason":"r"})", "op-secret", key("d1")).status,
        201);
    const auto again
        = m_sim->post(QStringLiteral("/v1/regions/eu-west/drain"), R"({"reason":"r"})", "op-secret", key("d2"));
    QCOMPARE(again.status, 409);
    QVERIFY(again.json().value(QLatin1String("operation")).toString().startsWith(QLatin1String("op-")));
    const auto resumeActive
        = m_sim->post(QStringLiteral("/v1/regions/us-east/resume"), R"({"reason":"r"})", "op-secret", key("r1"));
    QCOMPARE(resumeActive.status, 409);
    QVERIFY(resumeActive.json().value(QLatin1String("detail")).toString().contains(QLatin1String("already active")));
}

void TestFleetApiContract::operationsCancelAndAudit()
{
    const auto created = m_sim->post(QStringLiteral("/v1/regions/us-west/provision"),
        R"({"count":3,"arch":"amd64","reason":"r"})", "op-secret", key("p"));
    const QString id = created.json().value(QLatin1String("id")).toString();
    const auto list = m_sim->get(QStringLiteral("/v1/operations?state=running"));
    QCOMPARE(list.status, 200);
    QCOMPARE(
        list.json().value(QLatin1String("items")).toArray().first().toObject().value(QLatin1String("id")).toString(),
        id);
    const auto cancelled = m_sim->post(QStringLiteral("/v1/operations/") + id + QStringLiteral("/cancel"),
        R"({"reason":"wrong region"})", "op-secret", key("c"));
    QCOMPARE(cancelled.status, 201);
    QCOMPARE(cancelled.json().value(QLatin1String("state")).toString(), QStringLiteral("cancelled"));
    const auto retry = m_sim->post(QStringLiteral("/v1/operations/") + id + QStringLiteral("/cancel"),
        R"({"reason":"wrong region"})", "op-secret", key("c"));
    QCOMPARE(retry.status, 200); // a retried cancel is answered, not refused
    const auto late = m_sim->post(QStringLiteral("/v1/operations/") + id + QStringLiteral("/cancel"),
        R"({"reason":"again"})", "op-secret", key("c2"));
    QCOMPARE(late.status, 409);
    const QJsonArray audit
        = m_sim->get(QStringLiteral("/v1/audit?limit=1000")).json().value(QLatin1String("items")).toArray();
    QStringList actions;
    for (const auto &a : audit)
        actions << a.toObject().value(QLatin1String("action")).toString() + u':'
                + a.toObject().value(QLatin1String("result")).toString();
    QVERIFY2(actions.contains(QStringLiteral("provision:accepted")), qPrintable(actions.join(u' ')));
    QVERIFY(actions.contains(QStringLiteral("cancel:accepted")));
    QVERIFY(actions.contains(QStringLiteral("provision:cancelled")));
    const QJsonObject entry = audit.first().toObject();
    for (const char *field : { "id", "time", "actor", "role", "action", "target", "result" })
        QVERIFY2(entry.contains(QLatin1String(field)), field);
    // Paging: a one-item page leads to the next.
    const auto page = m_sim->get(QStringLiteral("/v1/audit?limit=1")).json();
    const auto next
        = m_sim->get(QStringLiteral("/v1/audit?limit=1&cursor=") + page.value(QLatin1String("next_cursor")).toString())
              .json();
    QCOMPARE(next.value(QLatin1String("items")).toArray().first().toObject().value(QLatin1String("id")).toString(),
        audit.at(1).toObject().value(QLatin1String("id")).toString());
}

void TestFleetApiContract::rateLimitIs429WithRetryAfter()
{
    SimHarness::Options options;
    options.rateLimit = 2;
    m_sim = std::make_unique<SimHarness>(options);
    int limited = 0;
    QByteArray retryAfter;
    for (int i = 0; i < 12; ++i) {
        const auto r = m_sim->get(QStringLiteral("/v1/me"));
        if (r.status == 429) {
            ++limited;
            retryAfter = r.header("Retry-After");
        } else {
            QCOMPARE(r.status, 200);
        }
    }
    QVERIFY(limited > 0);
    QVERIFY(retryAfter.toInt() >= 1);
    // Other tokens have their own budget.
    QCOMPARE(m_sim->get(QStringLiteral("/v1/me"), "admin-secret").status, 200);
}

void TestFleetApiContract::eventsStreamLive()
{
    StreamReader stream(*m_sim);
    QTRY_VERIFY(stream.raw().contains("retry: "));
    QCOMPARE(
        stream.reply()->header(QNetworkRequest::ContentTypeHeader).toString(), QStringLiteral("text/event-stream"));
    m_sim->admin(QStringLiteral("/v1/sim/advance"), R"({"seconds":5})");
    m_sim->post(QStringLiteral("/v1/regions/eu-west/provision"), R"({"count":1,"arch":"amd64","reason":"r"})",
        "op-secret", key("p"));
    QTRY_VERIFY(stream.raw().contains("event: operation"));
    QSet<QByteArray> types;
    qint64 last = 0;
    for (const auto &e : stream.events()) {
        QVERIFY(e.id > last); // every event has an increasing id
        last = e.id;
        types.insert(e.type);
        QVERIFY(QJsonDocument::fromJson(e.data).isObject());
    }
    for (const char *t : { "worker", "health", "operation", "audit" })
        QVERIFY2(types.contains(t), t);
    QCOMPARE(last, m_sim->sim().events().lastId());
}

void TestFleetApiContract::eventsResumeWithLastEventId()
{
    m_sim->sim().advance(30);
    const qint64 seen = m_sim->sim().events().lastId();
    m_sim->sim().advance(30); // events the client missed while disconnected
    const qint64 now = m_sim->sim().events().lastId();
    QVERIFY(now > seen);
    StreamReader stream(*m_sim, QByteArray::number(seen));
    QTRY_VERIFY(!stream.events().isEmpty() && stream.events().last().id == now);
    const auto events = stream.events();
    QCOMPARE(events.first().id, seen + 1); // nothing lost
    QCOMPARE(qint64(events.size()), now - seen); // nothing duplicated
    for (const auto &e : events)
        QVERIFY(e.type != "resync");
}

void TestFleetApiContract::eventsResyncWhenTooOld()
{
    SimHarness::Options options;
    options.eventBuffer = 100;
    m_sim = std::make_unique<SimHarness>(options);
    m_sim->sim().advance(10);
    const qint64 seen = m_sim->sim().events().lastId();
    m_sim->sim().advance(120); // far more than 100 events
    StreamReader stream(*m_sim, QByteArray::number(seen));
    QTRY_VERIFY(!stream.events().isEmpty());
    const auto first = stream.events().first();
    QCOMPARE(first.type, QByteArray("resync"));
    QCOMPARE(first.id, m_sim->sim().events().lastId());
    const QJsonObject data = QJsonDocument::fromJson(first.data).object();
    QCOMPARE(data.value(QLatin1String("reason")).toString(), QStringLiteral("events_expired"));
    QCOMPARE(data.value(QLatin1String("sequence")).toInteger(), m_sim->sim().events().lastId());
}

void TestFleetApiContract::eventsResyncAfterRestartLosesBuffer()
{
    StreamReader stream(*m_sim);
    QTRY_COMPARE(m_sim->server().streamCount(), 1);
    m_sim->sim().advance(5);
    m_sim->server().flushStreams();
    QTRY_VERIFY(!stream.events().isEmpty());
    const qint64 seen = stream.events().last().id;
    QCOMPARE(m_sim->admin(QStringLiteral("/v1/sim/faults"), R"({"type":"cut_streams"})").status, 201);
    QTRY_VERIFY(stream.reply()->isFinished());
    m_sim->sim().advance(5); // happens while the client is away...
    QCOMPARE(m_sim->admin(QStringLiteral("/v1/sim/faults"), R"({"type":"restart"})").status, 201); // ...and is lost
    StreamReader again(*m_sim, QByteArray::number(seen));
    QTRY_VERIFY(!again.events().isEmpty());
    QCOMPARE(again.events().first().type, QByteArray("resync"));
    // A client that had seen everything before the restart resumes without a resync.
    StreamReader upToDate(*m_sim, QByteArray::number(m_sim->sim().events().lastId()));
    QTRY_COMPARE(m_sim->server().streamCount(), 2);
    m_sim->sim().advance(2);
    m_sim->server().flushStreams();
    QTRY_VERIFY(!upToDate.events().isEmpty());
    QVERIFY(upToDate.events().first().type != "resync");
}

void TestFleetApiContract::heartbeatComments()
{
    SimHarness::Options options;
    options.heartbeatMs = 200;
    m_sim = std::make_unique<SimHarness>(options);
    StreamReader stream(*m_sim);
    QTRY_VERIFY(stream.raw().count(": heartbeat") >= 2);
    QCOMPARE(stream.reply()->rawHeader("X-Heartbeat-Interval-Ms"), QByteArray("200"));
    // A stalled stream sends nothing at all, not even heartbeats.
    m_sim->admin(QStringLiteral("/v1/sim/faults"), R"({"type":"stall_stream","duration_ms":1000})");
    const qsizetype size = stream.raw().size();
    QTest::qWait(700);
    QCOMPARE(stream.raw().size(), size);
    QTRY_VERIFY(stream.raw().size() > size);
}

void TestFleetApiContract::faultErrorsThenRecovers()
{
    QCOMPARE(m_sim
                 ->admin(QStringLiteral("/v1/sim/faults"),
                     R"({"type":"error","status":503,"count":2,"retry_after_s":3,"match":"/v1/regions"})")
                 .status,
        201);
    QCOMPARE(m_sim->get(QStringLiteral("/v1/me")).status, 200); // does not match
    const auto first = m_sim->get(QStringLiteral("/v1/regions"));
    QCOMPARE(first.status, 503);
    QCOMPARE(first.header("Retry-After"), QByteArray("3"));
    QCOMPARE(m_sim->get(QStringLiteral("/v1/regions")).status, 503);
    QCOMPARE(m_sim->get(QStringLiteral("/v1/regions")).status, 200);
    // A 5xx on an action means nothing happened; the retry with the same key then acts once.
    m_sim->admin(QStringLiteral("/v1/sim/faults"),
        R"({"type":"error","status":502,"count":1,"match":"/v1/regions/eu-west/provision"})");
    const QByteArray body = R"({"count":1,"arch":"amd64","reason":"r"})";
    QCOMPARE(m_sim->post(QStringLiteral("/v1/regions/eu-west/provision"), body, "op-secret", key("retry")).status, 502);
    // Reconcile before retrying: the failed attempt created nothing.
    QCOMPARE(m_sim->get(QStringLiteral("/v1/operations?idempotency_key=retry"), "op-secret")
                 .json()
                 .value(QLatin1String("total"))
                 .toInt(),
        0);
    QCOMPARE(m_sim->post(QStringLiteral("/v1/regions/eu-west/provision"), body, "op-secret", key("retry")).status, 201);
    const auto found = m_sim->get(QStringLiteral("/v1/operations?idempotency_key=retry"), "op-secret").json();
    QCOMPARE(found.value(QLatin1String("total")).toInt(), 1);
    // Another caller's key never matches.
    QCOMPARE(m_sim->get(QStringLiteral("/v1/operations?idempotency_key=retry"), "admin-secret")
                 .json()
                 .value(QLatin1String("total"))
                 .toInt(),
        0);
    QCOMPARE(m_sim->sim().operations().size(), std::size_t(1));
}

void TestFleetApiContract::faultMalformedBody()
{
    m_sim->admin(
        QStringLiteral("/v1/sim/faults"), R"({"type":"malformed","mode":"not_json","count":1,"match":"/v1/workers"})");
    const auto html = m_sim->get(QStringLiteral("/v1/workers"));
    QCOMPARE(html.status, 200);
    QVERIFY(QJsonDocument::fromJson(html.body).isNull());
    m_sim->admin(
        QStringLiteral("/v1/sim/faults"), R"({"type":"malformed","mode":"truncate","count":1,"match":"/v1/regions"})");
    QJsonParseError error;
    QJsonDocument::fromJson(m_sim->get(QStringLiteral("/v1/regions")).body, &error);
    QVERIFY(error.error != QJsonParseError::NoError);
    m_sim->admin(
        QStringLiteral("/v1/sim/faults"), R"({"type":"malformed","mode":"wrong_types","count":1,"match":"/v1/fleet"})");
    const QJsonObject wrong = m_sim->get(QStringLiteral("/v1/fleet/snapshot")).json();
    QVERIFY(wrong.value(QLatin1String("sequence")).isString());
    QCOMPARE(m_sim->get(QStringLiteral("/v1/regions")).json().value(QLatin1String("items")).toArray().size(), 6);
    const auto bad = m_sim->admin(QStringLiteral("/v1/sim/faults"), R"({"type":"gremlins"})");
    QCOMPARE(bad.status, 422);
}

void TestFleetApiContract::faultStallPastClientTimeout()
{
    m_sim->admin(QStringLiteral("/v1/sim/faults"), R"({"type":"stall","delay_ms":2000,"count":1,"match":"/v1/me"})");
    QNetworkRequest request(m_sim->url(QStringLiteral("/v1/me")));
    request.setRawHeader("Authorization", "Bearer view-secret");
    request.setTransferTimeout(400);
    QNetworkReply *reply = m_sim->network().get(request);
    QVERIFY(QSignalSpy(reply, &QNetworkReply::finished).wait(5000));
    QCOMPARE(reply->error(), QNetworkReply::OperationCanceledError); // the transfer timeout fired
    reply->deleteLater();
    QTest::qWait(2000); // the server's late answer to a closed socket must not crash it
    QCOMPARE(m_sim->get(QStringLiteral("/v1/me")).status, 200);
}

void TestFleetApiContract::faultCutStreams()
{
    StreamReader stream(*m_sim);
    QTRY_VERIFY(stream.raw().contains("retry:"));
    QTRY_COMPARE(m_sim->server().streamCount(), 1);
    m_sim->admin(QStringLiteral("/v1/sim/faults"), R"({"type":"cut_streams"})");
    QTRY_VERIFY(stream.reply()->isFinished());
    QCOMPARE(m_sim->server().streamCount(), 0);
}

void TestFleetApiContract::faultControlsNeedAdmin()
{
    QCOMPARE(m_sim->post(QStringLiteral("/v1/sim/faults"), R"({"type":"restart"})", "op-secret").status, 403);
    QCOMPARE(m_sim->get(QStringLiteral("/v1/sim/status"), "view-secret").status, 403);
    const auto status = m_sim->get(QStringLiteral("/v1/sim/status"), "admin-secret");
    QCOMPARE(status.status, 200);
    QCOMPARE(status.json().value(QLatin1String("scenario")).toString(), QStringLiteral("upstream-packet-loss"));
    QCOMPARE(status.json().value(QLatin1String("seed")).toInt(), 7);
}

void TestFleetApiContract::metricsInPrometheusFormat()
{
    m_sim->sim().advance(120);
    const auto r = m_sim->get(QStringLiteral("/metrics"));
    QCOMPARE(r.status, 200);
    QVERIFY(r.header("Content-Type").startsWith("text/plain; version=0.0.4"));
    const QString text = QString::fromUtf8(r.body);
    QVERIFY(text.contains(QLatin1String("# TYPE fleet_workers gauge")));
    QVERIFY(text.contains(QLatin1String("fleet_workers{region=\"eu-central\",state=\"idle\"}")));
    QVERIFY(text.contains(QLatin1String("fleet_build_failures_total{region=\"eu-central\",reason=\"ETIMEDOUT\"}")));
    // Every sample line is "name{labels} value".
    static const QRegularExpression line(QStringLiteral(R"(^[a-z_0-9]+(\{[^}]*\})? -?[0-9.e+-]+$)"));
    for (const QString &l : text.split(u'\n', Qt::SkipEmptyParts)) {
        if (!l.startsWith(u'#'))
            QVERIFY2(line.match(l).hasMatch(), qPrintable(l));
    }
    QCOMPARE(m_sim->get(QStringLiteral("/metrics"), QByteArray()).status, 401);
}

void TestFleetApiContract::scenarioOverHttpShowsTimeoutsInAffectedRegion()
{
    QCOMPARE(m_sim->admin(QStringLiteral("/v1/sim/advance"), R"({"seconds":14400})").status, 200); // to 12:00
    QMap<QString, int> timeouts;
    for (const char *region : { "eu-central", "eu-west", "us-east", "us-west", "ap-southeast", "sa-east" }) {
        const auto r
            = m_sim->get(QStringLiteral("/v1/regions/%1/health?from=-1h&step=3600").arg(QLatin1String(region)));
        QCOMPARE(r.status, 200);
        int n = 0;
        for (const auto &b : r.json().value(QLatin1String("buckets")).toArray())
            n += b.toObject().value(QLatin1String("failures")).toObject().value(QLatin1String("ETIMEDOUT")).toInt();
        timeouts[QLatin1String(region)] = n;
    }
    qInfo() << "ETIMEDOUT in the last hour by region:" << timeouts;
    for (auto it = timeouts.cbegin(); it != timeouts.cend(); ++it) {
        if (it.key() != QLatin1String("eu-central"))
            QVERIFY(it.value() * 10 < timeouts[QStringLiteral("eu-central")]);
    }
    QVERIFY(timeouts[QStringLiteral("eu-central")] > 30);
}

QTEST_GUILESS_MAIN(TestFleetApiContract)
#include "tst_fleetapi_contract.moc"
