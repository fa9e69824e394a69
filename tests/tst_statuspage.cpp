// Status updates against fleet-sim's Statuspage-compatible subset over loopback HTTP: create, update, resolve,
// postmortem draft and publish; writes paced under the rate limit and Retry-After honoured; a timeout after the page
// created the incident makes no duplicate; error bodies of both shapes are shown; the durable outbox across an
// outage and a console restart (delivered once, in order), and after a console killed mid-send. The decoders read
// the OpenAPI document's own example.

#include "localstore.h"
#include "simharness.h"
#include "statusbackend.h"
#include "statusoutbox.h"
#include "statuspage.h"

#include <QJsonArray>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace fleet;
using namespace fleet::statuspage;

namespace {

StatusPageConfig pageConfig(SimHarness &sim, const QString &key = QStringLiteral("demo-statuspage-key"))
{
    StatusPageConfig c;
    c.baseUrl = sim.url(QStringLiteral("/statuspage/v1"));
    c.pageId = QStringLiteral("fleetdemo");
    c.apiKey = key;
    return c;
}

template <typename T> ApiResult<T> wait(const std::function<void(QObject *, std::function<void(ApiResult<T>)>)> &call)
{
    QObject context;
    std::optional<ApiResult<T>> out;
    call(&context, [&](ApiResult<T> r) { out = std::move(r); });
    if (!QTest::qWaitFor([&] { return out.has_value(); }, 30000)) {
        ApiError e;
        e.kind = ApiError::Kind::Timeout;
        e.message = QStringLiteral("the test waited 30 s for an answer");
        return ApiResult<T>::failure(e);
    }
    return std::move(*out);
}

QString componentId(StatuspageClient &client, const QString &name)
{
    const auto all = wait<QList<Component>>([&](QObject *c, auto done) { client.components(c, done); });
    if (!all.ok())
        return {};
    for (const Component &component : *all)
        if (component.name == name)
            return component.id;
    return {};
}

IncidentChange change(const QString &status, const QString &body)
{
    IncidentChange c;
    c.status = status;
    c.body = body;
    c.deliverNotifications = false;
    return c;
}

void addFault(SimHarness &sim, const QByteArray &json)
{
    const auto r = sim.admin(QStringLiteral("/v1/sim/faults"), json);
    QVERIFY2(r.status == 201 || r.status == 200, r.body.constData());
}

// A status backend that is not Statuspage (a unit test of the outbox alone): it keeps what it was asked, in order,
// and answers at once like a page that has everything.
class RecordingBackend : public StatusBackend
{
public:
    QStringList calls;
    int created = 0;
    QString where() const override { return QStringLiteral("a recording backend"); }
    int maxBody() const override { return 100; }
    void components(QObject *, Callback<QList<Component>> done) override
    {
        done(ApiResult<QList<Component>>::success({}));
    }
    void unresolved(QObject *, Callback<QList<Incident>> done) override
    {
        done(ApiResult<QList<Incident>>::success({}));
    }
    void incidents(const QString &, int, QObject *, Callback<QList<Incident>> done) override
    {
        done(ApiResult<QList<Incident>>::success({}));
    }
    void incident(const QString &id, QObject *, Callback<Incident> done) override
    {
        calls << QStringLiteral("incident ") + id;
        Incident i;
        i.id = id;
        done(ApiResult<Incident>::success(i));
    }
    void create(const IncidentChange &change, QObject *context, Callback<Incident> done) override
    {
        calls << QStringLiteral("create ") + change.name;
        Incident i;
        i.id = QStringLiteral("rec%1").arg(++created);
        QTimer::singleShot(0, context, [done, i] { done(ApiResult<Incident>::success(i)); });
    }
    void update(const QString &id, const IncidentChange &change, QObject *context, Callback<Incident> done) override
    {
        calls << QStringLiteral("update %1 %2").arg(id, change.status);
        Incident i;
        i.id = id;
        QTimer::singleShot(0, context, [done, i] { done(ApiResult<Incident>::success(i)); });
    }
    void findCreated(const IncidentChange &, qint64, QObject *, Callback<Incident> done) override
    {
        done(ApiResult<Incident>::success({}));
    }
    bool carries(const Incident &, const IncidentChange &, qint64) const override { return false; }
    void putPostmortem(const QString &id, const QString &, QObject *, Callback<Postmortem> done) override
    {
        calls << QStringLiteral("postmortem ") + id;
        done(ApiResult<Postmortem>::success({}));
    }
    void publishPostmortem(const QString &id, bool, QObject *, Callback<Postmortem> done) override
    {
        calls << QStringLiteral("publish ") + id;
        done(ApiResult<Postmortem>::success({}));
    }
};

} // namespace

class TestStatusPage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void decodersReadTheSpecExample()
    {
        // Trimmed from the OpenAPI document's Incident example: postmortem_published_at is a boolean there.
        const QByteArray example = R"({"id":"p31zjtct2jer","name":"Data Layer Migration","status":"scheduled",
            "impact":"critical","impact_override":"minor","postmortem_published_at":true,
            "created_at":"2000-01-23T04:56:07.000+00:00","metadata":{"jira":{"issue_id":"value"}},
            "components":[{"id":"id","name":"name","status":"operational","position":0,"group":true,
            "start_date":"2000-01-23"}],"incident_updates":[{"id":"id","status":"investigating","body":"body",
            "created_at":"2000-01-23T04:56:07.000+00:00","deliver_notifications":true,"affected_components":[
            {"code":"string","name":"string","old_status":"operational","new_status":"operational"}]}],
            "shortlink":"http://stspg.io/803310a12","some_future_field":{"x":1}})";
        const auto incident = decodeIncident(example);
        QVERIFY2(incident.ok(), qPrintable(incident.error()));
        QCOMPARE(incident->status, QStringLiteral("scheduled")); // not a realtime status: kept as it is
        QVERIFY(incident->postmortemPublished);
        QCOMPARE(incident->createdAt, 948603367000);
        QCOMPARE(incident->updates.size(), 1);
        QCOMPARE(incident->updates.front().affected.front().newStatus, QStringLiteral("operational"));
        // A wrong type names the field; a name far past the API's limit is cut, not trusted whole.
        const auto wrong = decodeIncident(R"({"id":"x","name":42})");
        QVERIFY(!wrong.ok());
        QVERIFY2(wrong.error().contains(QLatin1String("field name")), qPrintable(wrong.error()));
        const auto longName = decodeIncident(QByteArray(R"({"id":"x","name":")") + QByteArray(50000, 'a') + "\"}");
        QVERIFY(longName.ok());
        QVERIFY(longName->name.size() <= 1001);
        QVERIFY(!decodeIncidents("{\"not\":\"a list\"}").ok());
        QVERIFY(!decodeIncident("<html>502</html>").ok());
        // Both error shapes.
        QCOMPARE(decodeErrorBody(R"({"message":"Could not authenticate"})"), QStringLiteral("Could not authenticate"));
        QCOMPARE(decodeErrorBody(R"({"error":"Rate limit exceeded"})"), QStringLiteral("Rate limit exceeded"));
        QCOMPARE(decodeErrorBody("{\"error\":[\"Name can\'t be blank\",\"Status is not included in the list\"]}"),
            QStringLiteral("Name can't be blank; Status is not included in the list"));
    }

    void changeIsCheckedBeforeSending()
    {
        IncidentChange c = change(QStringLiteral("investigating"), QStringLiteral("We are investigating."));
        QVERIFY(c.problem(true).contains(QLatin1String("needs a name")));
        c.name = QString(256, u'x');
        QVERIFY(c.problem(true).contains(QLatin1String("255")));
        c.name = QStringLiteral("Builder partially degraded service");
        QVERIFY(c.problem(true).isEmpty());
        c.status = QStringLiteral("investigatin");
        QVERIFY(c.problem(true).contains(QLatin1String("not an incident status")));
        c.status = QStringLiteral("identified");
        c.components.insert(QStringLiteral("abc"), QStringLiteral("down"));
        QVERIFY(c.problem(false).contains(QLatin1String("not a component status")));
        c.components.insert(QStringLiteral("abc"), QStringLiteral("partial_outage"));
        c.body = QString(25001, u'y');
        QVERIFY(c.problem(false).contains(QLatin1String("25000")));
    }

    void createUpdateResolvePostmortem()
    {
        SimHarness sim;
        StatuspageClient client(pageConfig(sim));
        const QString builder = componentId(client, QStringLiteral("Application Builder"));
        QVERIFY(!builder.isEmpty());

        IncidentChange open
            = change(QStringLiteral("investigating"), QStringLiteral("We are currently investigating this issue."));
        open.name = QStringLiteral("Builder <b>partially</b> degraded service");
        open.components.insert(builder, QStringLiteral("partial_outage"));
        open.incidentKey = QStringLiteral("key-1");
        open.updateKey = QStringLiteral("u-1");
        const auto created = wait<Incident>([&](QObject *c, auto done) { client.create(open, c, done); });
        QVERIFY2(created.ok(), qPrintable(created.error().message));
        QCOMPARE(created->status, QStringLiteral("investigating"));
        QCOMPARE(created->consoleKey(), QStringLiteral("key-1"));
        QCOMPARE(created->components.front().status, QStringLiteral("partial_outage"));

        IncidentChange identified = change(QStringLiteral("identified"),
            QStringLiteral("We have observed packet loss in the connections to our builder workers."));
        identified.updateKey = QStringLiteral("u-2");
        const auto updated
            = wait<Incident>([&](QObject *c, auto done) { client.update(created->id, identified, c, done); });
        QVERIFY2(updated.ok(), qPrintable(updated.error().message));
        QCOMPARE(updated->updates.size(), 2);
        QCOMPARE(updated->updates.front().status, QStringLiteral("identified")); // newest first
        QCOMPARE(updated->lastUpdateKey(), QStringLiteral("u-2"));

        IncidentChange resolved
            = change(QStringLiteral("resolved"), QStringLiteral("This incident has been resolved."));
        resolved.components.insert(builder, QStringLiteral("operational")); // set back explicitly
        const auto done = wait<Incident>([&](QObject *c, auto cb) { client.update(created->id, resolved, c, cb); });
        QVERIFY2(done.ok(), qPrintable(done.error().message));
        QVERIFY(done->resolvedAt > 0);
        QCOMPARE(done->components.front().status, QStringLiteral("operational"));
        const auto open2 = wait<QList<Incident>>([&](QObject *c, auto cb) { client.unresolved(c, cb); });
        QVERIFY(open2.ok());
        QVERIFY(open2->isEmpty());

        const auto draft = wait<Postmortem>([&](QObject *c, auto cb) {
            client.putPostmortem(created->id, QStringLiteral("## Summary\nPacket loss upstream."), c, cb);
        });
        QVERIFY2(draft.ok(), qPrintable(draft.error().message));
        QCOMPARE(draft->bodyDraft, QStringLiteral("## Summary\nPacket loss upstream."));
        QCOMPARE(draft->publishedAt, 0);
        const auto published
            = wait<Postmortem>([&](QObject *c, auto cb) { client.publishPostmortem(created->id, false, c, cb); });
        QVERIFY2(published.ok(), qPrintable(published.error().message));
        QVERIFY(published->publishedAt > 0);

        // The public page shows it, the markup in the name as text.
        const auto page = sim.get(QStringLiteral("/status"));
        QCOMPARE(page.status, 200);
        QVERIFY(page.body.contains("Builder &lt;b&gt;partially&lt;/b&gt; degraded service"));
        QVERIFY(!page.body.contains("<b>partially</b>"));
        QVERIFY(page.body.contains("Packet loss upstream."));
        QVERIFY(page.body.contains("All Systems Operational"));
    }

    void errorBodiesOfBothShapesAreShown()
    {
        SimHarness sim;
        StatuspageClient wrongKey(pageConfig(sim, QStringLiteral("not-the-key")));
        const auto refused = wait<QList<Incident>>([&](QObject *c, auto cb) { wrongKey.unresolved(c, cb); });
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().kind, ApiError::Kind::Unauthorized);
        QVERIFY2(
            refused.error().message.contains(QLatin1String("did not accept the API key (401): Could not authenticate")),
            qPrintable(refused.error().message));

        StatuspageClient client(pageConfig(sim));
        IncidentChange bad = change(QStringLiteral("investigating"), QStringLiteral("x"));
        bad.name = QString(300, u'n'); // past the limit: the page says so in a list of errors
        const auto invalid = wait<Incident>([&](QObject *c, auto cb) { client.create(bad, c, cb); });
        QVERIFY(!invalid.ok());
        QCOMPARE(invalid.error().httpStatus, 422);
        QVERIFY2(invalid.error().message.contains(QLatin1String("Name is too long (maximum is 255 characters)")),
            qPrintable(invalid.error().message));
        QCOMPARE(sim.server().statusPage().incidentCount(), 0);
    }

    void writesArePacedAndRetryAfterHonoured()
    {
        SimHarness sim;
        StatuspageClient client(pageConfig(sim));
        IncidentChange open = change(QStringLiteral("investigating"), QStringLiteral("first"));
        open.name = QStringLiteral("Pacing");
        open.incidentKey = QStringLiteral("pace");
        const auto created = wait<Incident>([&](QObject *c, auto done) { client.create(open, c, done); });
        QVERIFY2(created.ok(), qPrintable(created.error().message));
        // Six updates at once: paced one a second, in order, none refused by the rate limit.
        QObject context;
        QStringList answered;
        for (int i = 0; i < 6; ++i) {
            IncidentChange u = change(QStringLiteral("identified"), QStringLiteral("update %1").arg(i));
            u.updateKey = QStringLiteral("k%1").arg(i);
            client.update(created->id, u, &context, [&answered, i](ApiResult<Incident> r) {
                answered << (r.ok() ? QStringLiteral("ok %1").arg(i) : r.error().message);
            });
        }
        QTRY_COMPARE_WITH_TIMEOUT(answered.size(), 6, 30000);
        QCOMPARE(answered,
            (QStringList { QStringLiteral("ok 0"), QStringLiteral("ok 1"), QStringLiteral("ok 2"),
                QStringLiteral("ok 3"), QStringLiteral("ok 4"), QStringLiteral("ok 5") }));
        QCOMPARE(sim.server().statusPage().rateLimited(), 0);

        // The page says 420 (and 429) with Retry-After: honoured, the write goes once.
        addFault(sim, R"({"type":"error","status":420,"retry_after_s":1,"match":"/statuspage/","count":2})");
        IncidentChange later = change(QStringLiteral("monitoring"), QStringLiteral("after the limit"));
        later.updateKey = QStringLiteral("after");
        const auto after = wait<Incident>([&](QObject *c, auto done) { client.update(created->id, later, c, done); });
        QVERIFY2(after.ok(), qPrintable(after.error().message));
        QCOMPARE(after->updates.size(), 8);
    }

    void timeoutAfterCreateMakesNoDuplicate()
    {
        SimHarness sim;
        StatusPageConfig config = pageConfig(sim);
        config.requestTimeoutMs = 1000;
        StatuspageClient client(config);
        // The page creates the incident but its answer is held past the client's deadline.
        addFault(
            sim, R"({"type":"stall","delay_ms":2500,"match":"/statuspage/v1/pages/fleetdemo/incidents","count":1})");
        IncidentChange open = change(QStringLiteral("investigating"), QStringLiteral("We are investigating."));
        open.name = QStringLiteral("Stalled create");
        open.incidentKey = QStringLiteral("stalled-key");
        const auto created = wait<Incident>([&](QObject *c, auto done) { client.create(open, c, done); });
        QVERIFY2(created.ok(), qPrintable(created.error().message));
        QCOMPARE(created->consoleKey(), QStringLiteral("stalled-key"));
        QCOMPARE(sim.server().statusPage().incidentCount(), 1);
    }

    void outboxAcrossOutageAndRestart()
    {
        SimHarness sim;
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("store.sqlite"));
        QString builder;
        {
            StatuspageClient client(pageConfig(sim));
            builder = componentId(client, QStringLiteral("Application Builder"));
        }
        QString incidentKey;
        {
            LocalStore store;
            QVERIFY(store.open(file).ok());
            StatusOutbox outbox(&store);
            outbox.setConfig(pageConfig(sim));
            sim.stopServing(); // the page is unreachable
            IncidentChange open = change(QStringLiteral("investigating"), QStringLiteral("We are investigating."));
            open.name = QStringLiteral("Builder partially degraded service");
            open.components.insert(builder, QStringLiteral("partial_outage"));
            const auto first = outbox.open(open);
            QVERIFY2(first.ok(), qPrintable(first.error()));
            incidentKey = IncidentChange::fromValue(QJsonDocument::fromJson(outbox.entries().front().payload)
                                                        .object()
                                                        .value(QLatin1String("change"))
                                                        .toObject())
                              .incidentKey;
            QVERIFY(outbox.update(incidentKey, change(QStringLiteral("identified"), QStringLiteral("second"))).ok());
            QVERIFY(outbox.update(incidentKey, change(QStringLiteral("monitoring"), QStringLiteral("third"))).ok());
            QCOMPARE(outbox.pendingCount(), 3);
            // Kept queued, with the reason in words.
            QTRY_VERIFY_WITH_TIMEOUT(outbox.summary().contains(QLatin1String("connection refused")), 20000);
            QVERIFY2(
                outbox.summary().startsWith(QLatin1String("3 status updates queued")), qPrintable(outbox.summary()));
        } // the console stops with everything queued
        sim.startAgain();
        LocalStore store;
        QVERIFY(store.open(file).ok());
        StatusOutbox outbox(&store);
        QCOMPARE(outbox.pendingCount(), 3);
        QSignalSpy delivered(&outbox, &StatusOutbox::delivered);
        outbox.setConfig(pageConfig(sim));
        QTRY_COMPARE_WITH_TIMEOUT(delivered.size(), 3, 30000);
        QCOMPARE(outbox.pendingCount(), 0);
        QCOMPARE(sim.server().statusPage().incidentCount(), 1);
        StatuspageClient client(pageConfig(sim));
        const auto all = wait<QList<Incident>>([&](QObject *c, auto cb) { client.incidents({}, 10, c, cb); });
        QVERIFY(all.ok());
        QCOMPARE(all->size(), 1);
        QStringList bodies;
        for (const IncidentUpdate &u : all->front().updates)
            bodies.prepend(u.body);
        QCOMPARE(bodies,
            (QStringList {
                QStringLiteral("We are investigating."), QStringLiteral("second"), QStringLiteral("third") }));
        // The local audit log has every write with its outcome.
        const auto journal = store.journal();
        QVERIFY(journal.ok());
        int succeeded = 0;
        for (const auto &j : *journal)
            succeeded
                += j.kind.startsWith(QLatin1String("status_")) && j.outcome.startsWith(QLatin1String("succeeded"));
        QCOMPARE(succeeded, 3);
    }

    void consoleKilledMidSendMakesNoDuplicate()
    {
        SimHarness sim;
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("store.sqlite"));
        {
            LocalStore store;
            QVERIFY(store.open(file).ok());
            StatusOutbox outbox(&store); // no configuration: nothing is sent
            IncidentChange open = change(QStringLiteral("investigating"), QStringLiteral("We are investigating."));
            open.name = QStringLiteral("Killed mid-send");
            QVERIFY(outbox.open(open).ok());
            // As if the write had left and the console died before the answer: the page has it, the store says
            // "sending".
            LocalStore::OutboxEntry e = outbox.entries().front();
            const IncidentChange sent = IncidentChange::fromValue(
                QJsonDocument::fromJson(e.payload).object().value(QLatin1String("change")).toObject());
            StatuspageClient client(pageConfig(sim));
            QVERIFY(wait<Incident>([&](QObject *c, auto done) { client.create(sent, c, done); }).ok());
            e.state = QStringLiteral("sending");
            e.attempts = 1;
            QVERIFY(store.updateOutbox(e).ok());
        }
        LocalStore store;
        QVERIFY(store.open(file).ok());
        StatusOutbox outbox(&store);
        QSignalSpy delivered(&outbox, &StatusOutbox::delivered);
        outbox.setConfig(pageConfig(sim));
        QTRY_COMPARE_WITH_TIMEOUT(delivered.size(), 1, 20000);
        QCOMPARE(sim.server().statusPage().incidentCount(), 1);
        QCOMPARE(sim.server().statusPage().writes(), 1);
    }

    void invalidWriteFailsWithThePagesWordsAndHoldsNothingElse()
    {
        SimHarness sim;
        QTemporaryDir dir;
        LocalStore store;
        QVERIFY(store.open(dir.filePath(QStringLiteral("s.sqlite"))).ok());
        StatusOutbox outbox(&store);
        outbox.setConfig(pageConfig(sim));
        // An update of an incident the page does not have: 404, failed, and the next write still goes.
        QVERIFY(
            outbox.update(QStringLiteral("nosuchincident"), change(QStringLiteral("identified"), QStringLiteral("x")))
                .ok());
        IncidentChange open = change(QStringLiteral("investigating"), QStringLiteral("y"));
        open.name = QStringLiteral("After a failure");
        QVERIFY(outbox.open(open).ok());
        QSignalSpy failed(&outbox, &StatusOutbox::failed);
        QSignalSpy delivered(&outbox, &StatusOutbox::delivered);
        QTRY_COMPARE_WITH_TIMEOUT(delivered.size(), 1, 20000);
        QCOMPARE(failed.size(), 1);
        const auto entries = outbox.entries();
        QVERIFY2(StatusOutbox::describe(entries.front()).contains(QLatin1String("could not be found")),
            qPrintable(StatusOutbox::describe(entries.front())));
    }

    void outboxSpeaksOnlyThroughItsBackend()
    {
        // Any StatusBackend: the outbox's order, keys and incident ids are its own, not Statuspage's. A backend
        // replaced between two writes gets the next one.
        QTemporaryDir dir;
        LocalStore store;
        QVERIFY(store.open(dir.filePath(QStringLiteral("b.sqlite"))).ok());
        StatusOutbox outbox(&store);
        QCOMPARE(outbox.backend(), nullptr);
        RecordingBackend first;
        RecordingBackend second;
        QSignalSpy delivered(&outbox, &StatusOutbox::delivered);
        IncidentChange open = change(QStringLiteral("investigating"), QStringLiteral("a"));
        open.name = QStringLiteral("Through the interface");
        QVERIFY(outbox.open(open).ok());
        const QString key = IncidentChange::fromValue(QJsonDocument::fromJson(outbox.entries().front().payload)
                                                          .object()
                                                          .value(QLatin1String("change"))
                                                          .toObject())
                                .incidentKey;
        QVERIFY(outbox.update(key, change(QStringLiteral("identified"), QStringLiteral("b"))).ok());
        QTest::qWait(200);
        QCOMPARE(delivered.size(), 0); // no backend: kept
        QVERIFY2(outbox.summary().contains(QLatin1String("no status page")), qPrintable(outbox.summary()));
        outbox.setBackend(&first);
        QTRY_COMPARE_WITH_TIMEOUT(delivered.size(), 2, 10000);
        QCOMPARE(first.calls,
            QStringList({ QStringLiteral("create Through the interface"), QStringLiteral("update rec1 identified") }));
        outbox.setBackend(&second);
        QVERIFY(outbox.putPostmortem(key, QStringLiteral("what happened")).ok());
        QTRY_COMPARE_WITH_TIMEOUT(delivered.size(), 3, 10000);
        QCOMPARE(second.calls, QStringList({ QStringLiteral("postmortem rec1") }));
        QCOMPARE(first.calls.size(), 2);
        const auto tooLong = outbox.putPostmortem(key, QString(101, u'x')); // past the backend's own limit
        QVERIFY(!tooLong.ok());
        QVERIFY2(tooLong.error().contains(QLatin1String("at most 100")), qPrintable(tooLong.error()));
    }
};

QTEST_GUILESS_MAIN(TestStatusPage)
#include "tst_statuspage.moc"
