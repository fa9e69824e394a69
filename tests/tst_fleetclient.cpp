// The api/ client against a real fleet-sim over loopback, with its fault controls; and its pure helpers.

#include "backoff.h"
#include "embeddedsim.h"
#include "eventstream.h"
#include "fleetclient.h"
#include "fleetconnection.h"
#include "privatebus.h"
#include "simharness.h"
#include "tokensource.h"

#include <QElapsedTimer>
#include <QFile>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QProcess>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QThreadPool>

#include <atomic>

#if defined(Q_OS_LINUX)
#include <sched.h>
#endif

using namespace fleet;

namespace {

ClientConfig configFor(SimHarness &sim, const QString &token = QStringLiteral("op-secret"))
{
    ClientConfig c;
    c.baseUrl = sim.baseUrl();
    c.token = token;
    c.requestTimeoutMs = 3000;
    c.backoffBaseMs = 100;
    c.backoffCapMs = 400;
    return c;
}

// Waits for a callback-style call and returns its result.
template <typename T, typename Call> ApiResult<T> wait(Call &&call, int timeoutMs = 15000)
{
    std::optional<ApiResult<T>> result;
    QObject context;
    call(&context, [&](ApiResult<T> r) { result = std::move(r); });
    QElapsedTimer t;
    t.start();
    while (!result && t.elapsed() < timeoutMs)
        QTest::qWait(10);
    if (!result)
        qFatal("the call did not complete");
    return std::move(*result);
}

// Records everything a FleetConnection tells its consumer, and checks the events form an unbroken sequence.
struct Recorder
{
    explicit Recorder(FleetConnection *c)
    {
        QObject::connect(c, &FleetConnection::statusChanged, c, [this](const ConnectionStatus &s) { states << s; });
        QObject::connect(c, &FleetConnection::snapshotReceived, c, [this](const Snapshot &s) {
            ++snapshots;
            expectedNext = s.sequence + 1;
        });
        QObject::connect(c, &FleetConnection::eventReceived, c, [this](const FleetEvent &e) {
            if (e.id != expectedNext)
                ++sequenceErrors; // a lost or duplicated event
            expectedNext = e.id + 1;
            ++events;
        });
    }
    bool sawState(ConnectionState state, const QString &reasonPart = {}) const
    {
        return std::any_of(states.begin(), states.end(), [&](const ConnectionStatus &s) {
            return s.state == state && (reasonPart.isEmpty() || s.reason.contains(reasonPart));
        });
    }
    QList<ConnectionStatus> states;
    int snapshots = 0;
    int events = 0;
    int sequenceErrors = 0;
    qint64 expectedNext = 0;
};

} // namespace

class TestFleetClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init() { m_sim = std::make_unique<SimHarness>(); }
    void cleanup() { m_sim.reset(); }

    void readsDecodeAgainstFleetSim();
    void snapshotDecodedOffThread();
    void largeSnapshotArrivesWhole();
    void snapshotBytesNeverTouchTheCallersThread();
    void clientDestroyedWhileSnapshotInFlight();
    void wrongTokenIs401AndGoesOffline();
    void viewerActionIs403();
    void serverErrorThenSuccessCreatesOneOperation();
    void stallPastTimeoutReconcilesToOneOperation();
    void retryAfterIsHonoured();
    void malformedBodyIsADecodeError();
    void responseSizeCap();
    void refusedPortSaysSo();
    void previewActsOnNothing();
    void connectionGoesLiveAndFollowsEvents();
    void backlogArrivesWholeAndInTurns();
    void streamCutReconnectsWithoutLossOrDuplicates();
    void silentStreamIsDead();
    void resyncAfterLostBuffer();
    void serverDownThenBack();
    void tlsVerifiedByDefault();
    void logsNeverShowTheToken();
    void backoffFullJitter();
    void tokenFile();
    void tokenFromEnvironment();
    void tokenFromKeychain();

private:
    std::unique_ptr<SimHarness> m_sim;
};

void TestFleetClient::readsDecodeAgainstFleetSim()
{
    m_sim->sim().advance(600);
    FleetClient client(configFor(*m_sim, QStringLiteral("view-secret")));
    const auto me = wait<Identity>([&](QObject *c, auto cb) { client.me(c, cb); });
    QVERIFY2(me.ok(), qPrintable(me.error().message));
    QCOMPARE(me->role, Role::Viewer);
    QVERIFY(me->serverTime > 0);
    const auto regions = wait<Page<Region>>([&](QObject *c, auto cb) { client.regions(c, cb); });
    QVERIFY2(regions.ok(), qPrintable(regions.error().message));
    QCOMPARE(regions->items.size(), std::size_t(6));
    const auto workers = wait<Page<Worker>>([&](QObject *c, auto cb) {
        client.workers({ QStringLiteral("eu-central"), QString(), QString(), 10, QString() }, c, cb);
    });
    QVERIFY2(workers.ok(), qPrintable(workers.error().message));
    QCOMPARE(workers->items.size(), std::size_t(10));
    QVERIFY(!workers->nextCursor.isEmpty());
    const auto health = wait<HealthHistory>([&](QObject *c, auto cb) {
        client.health(QStringLiteral("eu-central"), QStringLiteral("-5m"), {}, 60, c, cb);
    });
    QVERIFY2(health.ok(), qPrintable(health.error().message));
    QVERIFY(health->buckets.size() >= 5);
}

void TestFleetClient::snapshotDecodedOffThread()
{
    // One pool thread, so the check below runs on the thread that decoded.
    QThreadPool *pool = QThreadPool::globalInstance();
    const int threads = pool->maxThreadCount();
    pool->setMaxThreadCount(1);
    const auto restore = qScopeGuard([&] { pool->setMaxThreadCount(threads); });

    FleetClient client(configFor(*m_sim));
    const auto snap = wait<Snapshot>([&](QObject *c, auto cb) { client.snapshot(c, cb); });
    QVERIFY2(snap.ok(), qPrintable(snap.error().message));
    QCOMPARE(int(snap->workers.size()), m_sim->sim().workerCount());
    QCOMPARE(snap->sequence, m_sim->sim().events().lastId());
#if defined(Q_OS_LINUX)
    // The decode ran as batch work, and the pool thread is an ordinary thread again afterwards.
    // (QThreadPool::start, not QtConcurrent: waiting on a future may run it on the waiting thread.)
    std::atomic<int> policy { -1 };
    pool->start([&policy] { policy = sched_getscheduler(0); });
    QTRY_VERIFY(policy >= 0);
    QCOMPARE(policy.load(), SCHED_OTHER);
#endif
}

void TestFleetClient::largeSnapshotArrivesWhole()
{
    // ~5 MB: the client takes the body a megabyte at a time, each slice an event of its own, and the reply
    // finishes while slices are still waiting. Nothing may be lost, doubled or cut off.
    SimHarness::Options options;
    options.workers = 12000;
    SimHarness big(options);
    FleetClient client(configFor(big));
    for (int round = 0; round < 2; ++round) {
        const auto snap = wait<Snapshot>([&](QObject *c, auto cb) { client.snapshot(c, cb); }, 60000);
        QVERIFY2(snap.ok(), qPrintable(snap.error().message));
        QCOMPARE(int(snap->workers.size()), big.sim().workerCount());
        for (int i : { 0, 1, 5999, 11998, 11999 }) {
            QCOMPARE(snap->workers[std::size_t(i)].id, big.sim().worker(i).id);
            QCOMPARE(snap->workers[std::size_t(i)].name, big.sim().worker(i).name);
        }
    }
}

void TestFleetClient::snapshotBytesNeverTouchTheCallersThread()
{
    // fleet-sim on a thread of its own, so that nothing of the server runs on this (the "GUI") thread.
    sim::EmbeddedSim remote;
    sim::EmbeddedSim::Options options;
    options.workers = 8000; // ~3 MB
    QString error;
    {
        const Status started = remote.start(options);
        QVERIFY2(started, qPrintable(started.error()));
    }
    ClientConfig config;
    config.baseUrl = remote.url();
    config.token = QStringLiteral("view-secret");
    FleetClient client(config);

    // Counts the events this thread handles for network replies (Qt's HTTP runs on a thread of Qt's own and posts
    // each piece of the body to the reply's thread): a filter on the application sees every event of its objects.
    struct ReplyEvents : QObject
    {
        int count = 0;
        bool eventFilter(QObject *receiver, QEvent *) override
        {
            count += qobject_cast<QNetworkReply *>(receiver) ? 1 : 0;
            return false;
        }
    } replyEvents;
    QCoreApplication::instance()->installEventFilter(&replyEvents);
    const auto remove = qScopeGuard([&] { QCoreApplication::instance()->removeEventFilter(&replyEvents); });

    const auto snap = wait<Snapshot>([&](QObject *c, auto cb) { client.snapshot(c, cb); }, 60000);
    QVERIFY2(snap.ok(), qPrintable(snap.error().message));
    int workers = 0;
    remote.run([&](sim::FleetSimServer &server) { workers = server.simulation().workerCount(); });
    QCOMPARE(int(snap->workers.size()), workers);
    QVERIFY(workers > 7000);
    QCOMPARE(replyEvents.count, 0);

    // An ordinary request's reply lives here, as before: the filter does see it (so the count above means something).
    const auto me = wait<Identity>([&](QObject *c, auto cb) { client.me(c, cb); });
    QVERIFY2(me.ok(), qPrintable(me.error().message));
    QVERIFY(replyEvents.count > 0);
}

void TestFleetClient::clientDestroyedWhileSnapshotInFlight()
{
    // Closing a connection (or the console) in the middle of a large snapshot: the network thread stops, the
    // transfer is dropped, and the callback never runs on a client that is gone.
    sim::EmbeddedSim remote;
    sim::EmbeddedSim::Options options;
    options.workers = 8000;
    QString error;
    {
        const Status started = remote.start(options);
        QVERIFY2(started, qPrintable(started.error()));
    }
    ClientConfig config;
    config.baseUrl = remote.url();
    config.token = QStringLiteral("view-secret");
    QObject context;
    int calls = 0;
    for (int delayMs : { 0, 5, 30 }) {
        auto client = std::make_unique<FleetClient>(config);
        client->snapshot(&context, [&](ApiResult<Snapshot>) { ++calls; });
        QTest::qWait(delayMs);
        client.reset();
    }
    QTest::qWait(300);
    QCOMPARE(calls, 0);
    // A new client still works.
    FleetClient client(config);
    const auto snap = wait<Snapshot>([&](QObject *c, auto cb) { client.snapshot(c, cb); }, 60000);
    QVERIFY2(snap.ok(), qPrintable(snap.error().message));
}

void TestFleetClient::wrongTokenIs401AndGoesOffline()
{
    FleetClient client(configFor(*m_sim, QStringLiteral("nope")));
    const auto me = wait<Identity>([&](QObject *c, auto cb) { client.me(c, cb); });
    QVERIFY(!me.ok());
    QCOMPARE(me.error().kind, ApiError::Kind::Unauthorized);
    QVERIFY2(me.error().message.contains(QLatin1String("token")), qPrintable(me.error().message));
    QVERIFY(!me.error().message.contains(QLatin1String("nope")));

    FleetConnection connection(configFor(*m_sim, QStringLiteral("nope")));
    Recorder rec(&connection);
    connection.start();
    QTRY_COMPARE(connection.status().state, ConnectionState::Offline);
    QVERIFY(connection.status().reason.contains(QLatin1String("401")));
    QVERIFY(!rec.sawState(ConnectionState::Live));
    QVERIFY(!rec.sawState(ConnectionState::Reconnecting)); // retrying cannot fix a token
}

void TestFleetClient::viewerActionIs403()
{
    FleetClient client(configFor(*m_sim, QStringLiteral("view-secret")));
    const auto op = wait<Operation>([&](QObject *c, auto cb) {
        client.perform(FleetClient::drainRegion(QStringLiteral("eu-central"), QStringLiteral("test")), c, cb);
    });
    QVERIFY(!op.ok());
    QCOMPARE(op.error().kind, ApiError::Kind::Forbidden);
    QVERIFY2(op.error().message.contains(QLatin1String("operator")), qPrintable(op.error().message));
    QVERIFY(m_sim->sim().operations().empty());
}

void TestFleetClient::serverErrorThenSuccessCreatesOneOperation()
{
    m_sim->admin(QStringLiteral("/v1/sim/faults"),
        R"({"type":"error","status":502,"count":2,"match":"/v1/regions/eu-west/provision"})");
    FleetClient client(configFor(*m_sim));
    const auto action = FleetClient::provision(QStringLiteral("eu-west"), 5, Arch::Amd64, QStringLiteral("replace"));
    const auto op = wait<Operation>([&](QObject *c, auto cb) { client.perform(action, c, cb); });
    QVERIFY2(op.ok(), qPrintable(op.error().message));
    QCOMPARE(op->idempotencyKey, action.idempotencyKey);
    QCOMPARE(m_sim->sim().operations().size(), std::size_t(1));
}

void TestFleetClient::stallPastTimeoutReconcilesToOneOperation()
{
    // The server acts, but its answer comes after the client gave up: the client must find the operation rather
    // than create a second one.
    m_sim->admin(QStringLiteral("/v1/sim/faults"),
        R"({"type":"stall","delay_ms":2500,"count":1,"match":"/v1/regions/eu-west/provision"})");
    ClientConfig config = configFor(*m_sim);
    config.requestTimeoutMs = 800;
    FleetClient client(config);
    const auto action = FleetClient::provision(QStringLiteral("eu-west"), 2, Arch::Amd64, QStringLiteral("replace"));
    const auto op = wait<Operation>([&](QObject *c, auto cb) { client.perform(action, c, cb); });
    QVERIFY2(op.ok(), qPrintable(op.error().message));
    QCOMPARE(m_sim->sim().operations().size(), std::size_t(1));
    QCOMPARE(op->id, m_sim->sim().operations().front().id);
}

void TestFleetClient::retryAfterIsHonoured()
{
    m_sim->admin(QStringLiteral("/v1/sim/faults"),
        R"({"type":"error","status":429,"count":1,"retry_after_s":1,"match":"/v1/regions"})");
    FleetClient client(configFor(*m_sim));
    QElapsedTimer t;
    t.start();
    const auto regions = wait<Page<Region>>([&](QObject *c, auto cb) { client.regions(c, cb); });
    QVERIFY2(regions.ok(), qPrintable(regions.error().message));
    QVERIFY2(t.elapsed() >= 950, "the client must wait Retry-After before asking again");
    // And 503 with Retry-After on an action: waited for, then done once.
    m_sim->admin(QStringLiteral("/v1/sim/faults"),
        R"({"type":"error","status":503,"count":1,"retry_after_s":1,"match":"/v1/regions/us-east/drain"})");
    const auto op = wait<Operation>([&](QObject *c, auto cb) {
        client.perform(FleetClient::drainRegion(QStringLiteral("us-east"), QStringLiteral("test")), c, cb);
    });
    QVERIFY2(op.ok(), qPrintable(op.error().message));
    QCOMPARE(m_sim->sim().operations().size(), std::size_t(1));
}

void TestFleetClient::malformedBodyIsADecodeError()
{
    ClientConfig config = configFor(*m_sim);
    config.maxAttempts = 1;
    FleetClient client(config);
    m_sim->admin(
        QStringLiteral("/v1/sim/faults"), R"({"type":"malformed","mode":"not_json","count":1,"match":"/v1/regions"})");
    auto r = wait<Page<Region>>([&](QObject *c, auto cb) { client.regions(c, cb); });
    QVERIFY(!r.ok());
    QCOMPARE(r.error().kind, ApiError::Kind::Decode);
    QVERIFY2(r.error().message.contains(QLatin1String("HTML")), qPrintable(r.error().message));
    m_sim->admin(
        QStringLiteral("/v1/sim/faults"), R"({"type":"malformed","mode":"wrong_types","count":1,"match":"/v1/fleet"})");
    const auto s = wait<Snapshot>([&](QObject *c, auto cb) { client.snapshot(c, cb); });
    QVERIFY(!s.ok());
    QVERIFY2(s.error().message.startsWith(QLatin1String("GET /v1/fleet/snapshot: ")), qPrintable(s.error().message));
}

void TestFleetClient::responseSizeCap()
{
    ClientConfig config = configFor(*m_sim);
    config.maxResponseBytes = 4096;
    FleetClient client(config);
    const auto s = wait<Snapshot>([&](QObject *c, auto cb) { client.snapshot(c, cb); });
    QVERIFY(!s.ok());
    QCOMPARE(s.error().kind, ApiError::Kind::TooLarge);
}

void TestFleetClient::refusedPortSaysSo()
{
    ClientConfig config = configFor(*m_sim);
    m_sim->stopServing();
    config.maxAttempts = 1;
    FleetClient client(config);
    const auto me = wait<Identity>([&](QObject *c, auto cb) { client.me(c, cb); });
    QVERIFY(!me.ok());
    QCOMPARE(me.error().kind, ApiError::Kind::Network);
    QVERIFY2(me.error().message.contains(QLatin1String("connection refused")), qPrintable(me.error().message));
}

void TestFleetClient::previewActsOnNothing()
{
    FleetClient client(configFor(*m_sim));
    const auto dry = wait<DryRunResult>([&](QObject *c, auto cb) {
        client.preview(FleetClient::drainRegion(QStringLiteral("eu-central"), QStringLiteral("preview")), c, cb);
    });
    QVERIFY2(dry.ok(), qPrintable(dry.error().message));
    QCOMPARE(dry->activeWorkersAfter, 0);
    QVERIFY(!dry->notes.isEmpty());
    QVERIFY(m_sim->sim().operations().empty());
}

void TestFleetClient::connectionGoesLiveAndFollowsEvents()
{
    FleetConnection connection(configFor(*m_sim, QStringLiteral("view-secret")));
    Recorder rec(&connection);
    connection.start();
    QCOMPARE(connection.status().state, ConnectionState::Connecting);
    QTRY_COMPARE(connection.status().state, ConnectionState::Live);
    QCOMPARE(rec.snapshots, 1);
    QCOMPARE(connection.identity().name, QStringLiteral("demo-viewer"));
    m_sim->sim().advance(20);
    m_sim->server().flushStreams();
    QTRY_VERIFY(rec.events >= 100);
    QCOMPARE(rec.sequenceErrors, 0);
    QVERIFY(connection.status().dataAgeMs() >= 0);
    QCOMPARE(rec.states.first().state, ConnectionState::Connecting);
}

void TestFleetClient::backlogArrivesWholeAndInTurns()
{
    // A stream resumed far back gets its backlog at once: megabytes in a few reads. The client parses it 64 KB and
    // delivers it 4 ms at a time, letting the event loop run in between. Every event must arrive, once, in order.
    SimHarness::Options options;
    options.workers = 5000;
    SimHarness big(options);
    const qint64 from = big.sim().events().lastId();
    while (big.sim().events().lastId() - from < 20000)
        big.sim().advance(60);
    const int total = int(big.sim().events().lastId() - from);

    EventStream stream(configFor(big, QStringLiteral("view-secret")));
    qint64 expected = from + 1;
    int received = 0;
    int outOfOrder = 0;
    connect(&stream, &EventStream::eventReceived, this, [&](const FleetEvent &e) {
        outOfOrder += e.id == expected ? 0 : 1;
        expected = e.id + 1;
        ++received;
    });
    bool turnedMidway = false; // the event loop ran while part of the backlog was delivered
    QTimer turn;
    turn.setInterval(0);
    connect(&turn, &QTimer::timeout, this, [&] { turnedMidway |= received > 0 && received < total; });
    turn.start();
    stream.start(from);
    QTRY_COMPARE_WITH_TIMEOUT(received, total, 60000);
    QCOMPARE(outOfOrder, 0);
    QVERIFY(turnedMidway);
    QVERIFY(stream.isConnected());
}

void TestFleetClient::streamCutReconnectsWithoutLossOrDuplicates()
{
    FleetConnection connection(configFor(*m_sim, QStringLiteral("view-secret")));
    Recorder rec(&connection);
    connection.start();
    QTRY_COMPARE(connection.status().state, ConnectionState::Live);
    for (int round = 0; round < 3; ++round) {
        m_sim->sim().advance(5);
        m_sim->server().flushStreams();
        m_sim->admin(QStringLiteral("/v1/sim/faults"), R"({"type":"cut_streams"})");
        m_sim->sim().advance(5); // events while the client is away: it must get them on resume
        QTRY_VERIFY(rec.sawState(ConnectionState::Reconnecting));
        QTRY_COMPARE(connection.status().state, ConnectionState::Live);
    }
    m_sim->server().flushStreams();
    QTRY_COMPARE(rec.expectedNext, m_sim->sim().events().lastId() + 1);
    QCOMPARE(rec.sequenceErrors, 0);
    QCOMPARE(rec.snapshots, 1); // resumed with Last-Event-ID every time, no refetch needed
}

void TestFleetClient::silentStreamIsDead()
{
    SimHarness::Options options;
    options.heartbeatMs = 200; // the client holds the dead-stream check to at least 2 x 1 s
    m_sim = std::make_unique<SimHarness>(options);
    FleetConnection connection(configFor(*m_sim, QStringLiteral("view-secret")));
    Recorder rec(&connection);
    connection.start();
    QTRY_COMPARE(connection.status().state, ConnectionState::Live);
    m_sim->admin(QStringLiteral("/v1/sim/faults"), R"({"type":"stall_stream","duration_ms":3500})");
    QTRY_VERIFY(rec.sawState(ConnectionState::Reconnecting, QStringLiteral("presumed dead")));
    QTRY_COMPARE(connection.status().state, ConnectionState::Live);
}

void TestFleetClient::resyncAfterLostBuffer()
{
    FleetConnection connection(configFor(*m_sim, QStringLiteral("view-secret")));
    Recorder rec(&connection);
    connection.start();
    QTRY_COMPARE(connection.status().state, ConnectionState::Live);
    m_sim->sim().advance(3);
    m_sim->server().flushStreams();
    QTRY_VERIFY(rec.events > 0);
    m_sim->stopServing(); // the client cannot reconnect while events happen...
    m_sim->sim().advance(5);
    m_sim->sim().events().loseAll(); // ...and are lost, as in a restart without persistence
    m_sim->startAgain();
    QTRY_COMPARE_WITH_TIMEOUT(rec.snapshots, 2, 15000);
    QTRY_COMPARE(connection.status().state, ConnectionState::Live);
    QVERIFY(rec.sawState(ConnectionState::Reconnecting, QStringLiteral("resynchronising")));
    m_sim->sim().advance(2);
    m_sim->server().flushStreams();
    QTRY_COMPARE(rec.expectedNext, m_sim->sim().events().lastId() + 1);
    QCOMPARE(rec.sequenceErrors, 0);
}

void TestFleetClient::serverDownThenBack()
{
    FleetConnection connection(configFor(*m_sim, QStringLiteral("view-secret")));
    Recorder rec(&connection);
    connection.start();
    QTRY_COMPARE(connection.status().state, ConnectionState::Live);
    m_sim->stopServing();
    QTRY_VERIFY(rec.sawState(ConnectionState::Reconnecting, QStringLiteral("connection refused")));
    const ConnectionStatus &s = connection.status();
    QCOMPARE(s.state, ConnectionState::Reconnecting);
    QVERIFY(s.attempt >= 1);
    QVERIFY(s.nextAttemptInMs() >= 0);
    QTest::qWait(500);
    QVERIFY(connection.status().state != ConnectionState::Live); // never live while the server is down
    m_sim->startAgain();
    QTRY_COMPARE_WITH_TIMEOUT(connection.status().state, ConnectionState::Live, 10000);
}

void TestFleetClient::tlsVerifiedByDefault()
{
    QTemporaryDir dir;
    const QString cert = dir.filePath(QStringLiteral("cert.pem"));
    const QString key = dir.filePath(QStringLiteral("key.pem"));
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"),
        { QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("rsa:2048"),
            QStringLiteral("-nodes"), QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-subj"),
            QStringLiteral("/CN=127.0.0.1"), QStringLiteral("-addext"), QStringLiteral("subjectAltName=IP:127.0.0.1"),
            QStringLiteral("-keyout"), key, QStringLiteral("-out"), cert });
    if (!openssl.waitForStarted())
        QSKIP("openssl is not installed (scripts/install-deps installs it)");
    QVERIFY(openssl.waitForFinished(60000));
    QCOMPARE(openssl.exitCode(), 0);

    SimHarness::Options options;
    options.tlsCertificateFile = cert;
    options.tlsKeyFile = key;
    m_sim = std::make_unique<SimHarness>(options);
    QCOMPARE(m_sim->baseUrl().scheme(), QStringLiteral("https"));

    ClientConfig config = configFor(*m_sim);
    config.maxAttempts = 1;
    {
        FleetClient client(config); // a self-signed certificate is not trusted by default
        const auto me = wait<Identity>([&](QObject *c, auto cb) { client.me(c, cb); });
        QVERIFY(!me.ok());
        QCOMPARE(me.error().kind, ApiError::Kind::Tls);
        QVERIFY2(me.error().message.contains(QLatin1String("not trusted")), qPrintable(me.error().message));
        FleetConnection connection(config);
        connection.start();
        QTRY_COMPARE(connection.status().state, ConnectionState::Offline); // retrying cannot fix a certificate
    }
    {
        ClientConfig withCa = config;
        withCa.caFile = cert;
        FleetClient client(withCa);
        const auto me = wait<Identity>([&](QObject *c, auto cb) { client.me(c, cb); });
        QVERIFY2(me.ok(), qPrintable(me.error().message));
        FleetConnection connection(withCa);
        connection.start();
        QTRY_COMPARE(connection.status().state, ConnectionState::Live);
        QVERIFY(!connection.status().insecure);
    }
    {
        ClientConfig insecure = config;
        insecure.insecure = true;
        FleetConnection connection(insecure);
        connection.start();
        QTRY_COMPARE(connection.status().state, ConnectionState::Live);
        QVERIFY(connection.status().insecure); // the UI must be able to say so loudly
    }
}

void TestFleetClient::logsNeverShowTheToken()
{
    QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:1/v1/me")));
    request.setRawHeader("Authorization", "Bearer s3cret-token");
    request.setRawHeader("Idempotency-Key", "k1");
    const QByteArray line = FleetClient::describeForLog(request, "GET");
    QVERIFY(!line.contains("s3cret-token"));
    QVERIFY(line.contains("Authorization: <redacted>"));
    QVERIFY(line.contains("Idempotency-Key: k1"));
}

void TestFleetClient::backoffFullJitter()
{
    Backoff backoff(1000, 8000, 42);
    int maxSeen = 0;
    for (int attempt = 0; attempt < 50; ++attempt) {
        const int ceiling = std::min(8000, 1000 << std::min(attempt, 20));
        const int d = backoff.nextDelayMs();
        QVERIFY(d >= Backoff::kFloorMs);
        QVERIFY2(d <= ceiling, qPrintable(QStringLiteral("attempt %1: %2 > %3").arg(attempt).arg(d).arg(ceiling)));
        maxSeen = std::max(maxSeen, d);
    }
    QVERIFY(maxSeen > 4000); // it does grow towards the cap
    QCOMPARE(backoff.attempt(), 50);
    backoff.reset();
    QVERIFY(backoff.nextDelayMs() <= 1000);
    backoff.setBaseMs(3000); // the server's retry: field
    backoff.reset();
    QCOMPARE(backoff.baseMs(), 3000);
    // Two clients with different seeds do not retry in lockstep.
    Backoff a(1000, 30000, 1), b(1000, 30000, 2);
    int same = 0;
    for (int i = 0; i < 10; ++i)
        same += a.nextDelayMs() == b.nextDelayMs();
    QVERIFY(same < 3);
}

void TestFleetClient::tokenFile()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("token"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("op-secret\n");
    f.close();
    QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther);
    auto r = tokens::fromFile(path);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().contains(QLatin1String("chmod 600")) && r.error().contains(QLatin1String("0644")),
        qPrintable(r.error()));
    QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
    r = tokens::fromFile(path);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QCOMPARE(r.value(), QStringLiteral("op-secret"));
    QVERIFY(!tokens::fromFile(dir.filePath(QStringLiteral("missing"))).ok());
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write("two words\n");
    f.close();
    QVERIFY(tokens::fromFile(path).error().contains(QLatin1String("cannot be in a token")));
}

void TestFleetClient::tokenFromEnvironment()
{
    qputenv("FLEET_TEST_TOKEN", "  abc  ");
    QCOMPARE(tokens::fromEnvironment("FLEET_TEST_TOKEN").value(), QStringLiteral("abc"));
    qunsetenv("FLEET_TEST_TOKEN");
    QVERIFY(tokens::fromEnvironment("FLEET_TEST_TOKEN").error().contains(QLatin1String("not set")));
    qputenv("FLEET_TEST_TOKEN", "");
    QVERIFY(tokens::fromEnvironment("FLEET_TEST_TOKEN").error().contains(QLatin1String("empty")));
}

void TestFleetClient::tokenFromKeychain()
{
    // The real thing: a private D-Bus session with gnome-keyring's Secret Service on it, keyrings in a temporary
    // home, and QtKeychain talking to it as it would on a desktop. (scripts/install-deps installs both daemons.)
    for (const char *tool : { "dbus-daemon", "gnome-keyring-daemon" }) {
        if (QStandardPaths::findExecutable(QLatin1String(tool)).isEmpty())
            QFAIL(qPrintable(QStringLiteral("%1 is missing: run scripts/install-deps").arg(QLatin1String(tool))));
    }
    // No session bus at all (an address where nothing listens), as on a server: a sentence that says what to use
    // instead.
    QTemporaryDir home;
    QVERIFY(home.isValid());
    qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=" + home.filePath(QStringLiteral("no-bus")).toUtf8());
    {
        QObject context;
        std::optional<Result<QString>> read;
        tokens::fromKeychain(QStringLiteral("ops"), &context, [&](Result<QString> r) { read = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(read.has_value(), 20000);
        QVERIFY(!read->ok());
        QVERIFY2(read->error().contains(QLatin1String("FLEET_TOKEN")), qPrintable(read->error()));
        qInfo("without a bus: %s", qPrintable(read->error()));
    }

    // A session bus without service directories: nothing is started on demand, so the Secret Service on it is
    // the keyring daemon of PrivateKeyring (with D-Bus activation a second gnome-keyring, without our login keyring,
    // could win the name when the first call comes before ours has claimed it).
    PrivateKeyring keyring;
    QString keyringError;
    QVERIFY2(keyring.start(&keyringError), qPrintable(keyringError));

    // Store (retried while the daemon is still claiming its bus name), read back, and a profile with no entry.
    QObject context;
    std::optional<Result<bool>> stored;
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < 20000) {
        stored.reset();
        tokens::storeInKeychain(QStringLiteral("ops"), QStringLiteral("  op-secret\n"), &context,
            [&](Result<bool> r) { stored = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(stored.has_value(), 20000);
        if (stored->ok())
            break;
        QTest::qWait(200);
    }
    QVERIFY2(stored->ok(), qPrintable(stored->error()));

    std::optional<Result<QString>> read;
    tokens::fromKeychain(QStringLiteral("ops"), &context, [&](Result<QString> r) { read = std::move(r); });
    QTRY_VERIFY_WITH_TIMEOUT(read.has_value(), 20000);
    QVERIFY2(read->ok(), qPrintable(read->error()));
    QCOMPARE(read->value(), QStringLiteral("op-secret")); // trimmed, as from a file

    read.reset();
    tokens::fromKeychain(QStringLiteral("nobody"), &context, [&](Result<QString> r) { read = std::move(r); });
    QTRY_VERIFY_WITH_TIMEOUT(read.has_value(), 20000);
    QVERIFY(!read->ok());
    QVERIFY2(read->error().contains(QLatin1String("no token for profile \"nobody\"")), qPrintable(read->error()));
    qunsetenv("DBUS_SESSION_BUS_ADDRESS");
}

QTEST_GUILESS_MAIN(TestFleetClient)
#include "tst_fleetclient.moc"
