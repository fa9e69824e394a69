// fleetctl watch as a user runs it: real processes, fleet-sim killed and restarted on the same port.

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

namespace {

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

// Collects fleetctl's JSON lines as they come.
class Lines
{
public:
    explicit Lines(QProcess *p)
        : m_process(p)
    {
    }
    QList<QJsonObject> read()
    {
        m_buffer += m_process->readAllStandardOutput();
        qsizetype nl;
        while ((nl = m_buffer.indexOf('\n')) >= 0) {
            const QByteArray line = m_buffer.left(nl);
            m_buffer.remove(0, nl + 1);
            QJsonParseError error;
            const QJsonDocument doc = QJsonDocument::fromJson(line, &error);
            if (!doc.isObject())
                qFatal("fleetctl --json printed a line that is not a JSON object: %s", line.constData());
            m_all << doc.object();
        }
        return m_all;
    }
    bool has(const QString &kind, const QString &state = {}, const QString &reasonPart = {}, int from = 0)
    {
        const auto all = read();
        for (int i = from; i < all.size(); ++i) {
            const QJsonObject &o = all[i];
            if (o.value(QLatin1String("kind")).toString() == kind
                && (state.isEmpty() || o.value(QLatin1String("state")).toString() == state)
                && (reasonPart.isEmpty() || o.value(QLatin1String("reason")).toString().contains(reasonPart)))
                return true;
        }
        return false;
    }
    int size() { return int(read().size()); }

private:
    QProcess *m_process;
    QByteArray m_buffer;
    QList<QJsonObject> m_all;
};

void startSim(QProcess &sim, quint16 port)
{
    sim.start(QStringLiteral(FLEET_SIM_BINARY),
        { QStringLiteral("--port"), QString::number(port), QStringLiteral("--speed"), QStringLiteral("20"),
            QStringLiteral("--heartbeat-ms"), QStringLiteral("1000") });
    QVERIFY(sim.waitForStarted());
    QByteArray output;
    QTRY_VERIFY_WITH_TIMEOUT(
        (output += sim.readAllStandardOutput()).contains("listening") || sim.state() != QProcess::Running, 20000);
    QVERIFY2(sim.state() == QProcess::Running, output.constData());
}

} // namespace

class TestFleetctl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void watchRecoversWhenFleetSimRestarts();
    void textOutput();
    void refusesBadInvocations_data();
    void refusesBadInvocations();
    void provisionFollowedUntilIdle();
    void actionExitCodes();
    void incidentThroughTheOutbox();
    void fleetSimSuggestsACurlThatWorks();
    void recordsAnIncidentAndMeasuresIt();
};

void TestFleetctl::watchRecoversWhenFleetSimRestarts()
{
    const quint16 port = freePort();
    QProcess sim;
    startSim(sim, port);
    QProcess watch;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("FLEET_TOKEN"), QStringLiteral("view-secret"));
    watch.setProcessEnvironment(env);
    watch.start(QStringLiteral(FLEETCTL_BINARY),
        { QStringLiteral("watch"), QStringLiteral("--api"), QStringLiteral("http://127.0.0.1:%1").arg(port),
            QStringLiteral("--json"), QStringLiteral("--interval"), QStringLiteral("1") });
    QVERIFY(watch.waitForStarted());
    Lines lines(&watch);
    QTRY_VERIFY_WITH_TIMEOUT(lines.has(QStringLiteral("state"), QStringLiteral("live")), 30000);
    QVERIFY(lines.has(QStringLiteral("state"), QStringLiteral("connecting")));
    QVERIFY(lines.has(QStringLiteral("snapshot")));
    auto countsArrived = [&lines] {
        const QList<QJsonObject> all = lines.read(); // one copy: begin and end must come from the same list
        return std::any_of(all.begin(), all.end(), [](const QJsonObject &o) {
            return o.value(QLatin1String("kind")).toString() == QLatin1String("counts")
                && o.value(QLatin1String("total")).toInt() > 0
                && o.value(QLatin1String("events")).toObject().contains(QLatin1String("health"));
        });
    };
    QTRY_VERIFY_WITH_TIMEOUT(countsArrived(), 30000);

    const int mark = lines.size();
    sim.kill();
    sim.waitForFinished();
    QTRY_VERIFY_WITH_TIMEOUT(lines.has(QStringLiteral("state"), QStringLiteral("reconnecting"), {}, mark), 15000);
    QTRY_VERIFY_WITH_TIMEOUT(
        lines.has(QStringLiteral("state"), QStringLiteral("reconnecting"), QStringLiteral("connection refused"), mark),
        15000);
    // While the server is gone, it never claims to be live.
    QVERIFY(!lines.has(QStringLiteral("state"), QStringLiteral("live"), {}, mark));

    const int restartMark = lines.size();
    QProcess again;
    startSim(again, port);
    QTRY_VERIFY_WITH_TIMEOUT(lines.has(QStringLiteral("state"), QStringLiteral("live"), {}, restartMark), 40000);
    // The new server lost the old one's events: fleetctl resynchronised from a fresh snapshot.
    QTRY_VERIFY_WITH_TIMEOUT(lines.has(QStringLiteral("snapshot"), {}, {}, restartMark), 10000);
    watch.terminate();
    QVERIFY(watch.waitForFinished(10000));
    again.terminate();
    again.waitForFinished();
}

void TestFleetctl::textOutput()
{
    const quint16 port = freePort();
    QProcess sim;
    startSim(sim, port);
    QTemporaryDir dir;
    const QString tokenPath = dir.filePath(QStringLiteral("token"));
    QFile token(tokenPath);
    QVERIFY(token.open(QIODevice::WriteOnly));
    token.write("op-secret\n");
    token.close();
    QFile::setPermissions(tokenPath, QFile::ReadOwner | QFile::WriteOwner);
    QProcess watch;
    watch.start(QStringLiteral(FLEETCTL_BINARY),
        { QStringLiteral("watch"), QStringLiteral("--api"), QStringLiteral("http://127.0.0.1:%1").arg(port),
            QStringLiteral("--token-file"), tokenPath, QStringLiteral("--interval"), QStringLiteral("1") });
    QByteArray text;
    QTRY_VERIFY_WITH_TIMEOUT((text += watch.readAllStandardOutput()).contains(" events "), 15000);
    QVERIFY2(text.contains(" state live\n"), text.constData());
    QVERIFY(text.contains(" identity demo-operator (operator)"));
    QVERIFY(text.contains("total="));
    QVERIFY(!text.contains("op-secret"));
    watch.terminate();
    watch.waitForFinished();
    sim.terminate();
    sim.waitForFinished();
}

void TestFleetctl::refusesBadInvocations_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<QString>("message");
    QTest::newRow("no command") << QStringList {} << QByteArray("x") << QStringLiteral("say what to do");
    QTest::newRow("unknown command") << QStringList { QStringLiteral("explode") } << QByteArray("x")
                                     << QStringLiteral("unknown command");
    QTest::newRow("no api") << QStringList { QStringLiteral("watch") } << QByteArray("x")
                            << QStringLiteral("--api URL is required");
    QTest::newRow("bad url") << QStringList { QStringLiteral("watch"), QStringLiteral("--api"),
        QStringLiteral("ftp:/nowhere") }
                             << QByteArray("x") << QStringLiteral("not an http:// or https:// URL");
    QTest::newRow("provision without reason") << QStringList { QStringLiteral("provision"), QStringLiteral("--api"),
        QStringLiteral("http://127.0.0.1:9"), QStringLiteral("--region"), QStringLiteral("eu-west"),
        QStringLiteral("--count"), QStringLiteral("2"), QStringLiteral("--arch"), QStringLiteral("amd64") }
                                              << QByteArray("x") << QStringLiteral("needs --reason");
    QTest::newRow("provision bad arch") << QStringList { QStringLiteral("provision"), QStringLiteral("--api"),
        QStringLiteral("http://127.0.0.1:9"), QStringLiteral("--region"), QStringLiteral("eu-west"),
        QStringLiteral("--count"), QStringLiteral("2"), QStringLiteral("--arch"), QStringLiteral("sparc"),
        QStringLiteral("--reason"), QStringLiteral("x") }
                                        << QByteArray("x") << QStringLiteral("--arch amd64|aarch64|armv7hf");
    QTest::newRow("bad expiry") << QStringList { QStringLiteral("drain"), QStringLiteral("region"),
        QStringLiteral("eu-west"), QStringLiteral("--api"), QStringLiteral("http://127.0.0.1:9"),
        QStringLiteral("--reason"), QStringLiteral("x"), QStringLiteral("--expires"), QStringLiteral("soon") }
                                << QByteArray("x") << QStringLiteral("is not a duration");
    QTest::newRow("drain what") << QStringList { QStringLiteral("drain"), QStringLiteral("galaxy"), QStringLiteral("x"),
        QStringLiteral("--api"), QStringLiteral("http://127.0.0.1:9"), QStringLiteral("--reason"), QStringLiteral("x") }
                                << QByteArray("x") << QStringLiteral("unknown command");
    QTest::newRow("no token") << QStringList { QStringLiteral("watch"), QStringLiteral("--api"),
        QStringLiteral("http://127.0.0.1:9") }
                              << QByteArray() << QStringLiteral("FLEET_TOKEN is not set");
}

void TestFleetctl::refusesBadInvocations()
{
    QFETCH(QStringList, args);
    QFETCH(QByteArray, token);
    QFETCH(QString, message);
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("FLEET_TOKEN"));
    if (!token.isEmpty())
        env.insert(QStringLiteral("FLEET_TOKEN"), QString::fromLatin1(token));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(FLEETCTL_BINARY), args);
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitCode(), 2);
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QVERIFY2(err.contains(message), qPrintable(err));
}

namespace {

struct Run
{
    int code = -1;
    QByteArray out;
    QString err;
};

Run fleetctl(const QStringList &args, const QByteArray &token = "op-secret", const QString &dataDir = {})
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("FLEET_TOKEN"), QString::fromLatin1(token));
    env.insert(QStringLiteral("STATUSPAGE_API_KEY"), QStringLiteral("demo-statuspage-key"));
    if (!dataDir.isEmpty())
        env.insert(QStringLiteral("FLEET_CONSOLE_DATA"), dataDir);
    p.setProcessEnvironment(env);
    p.setStandardInputFile(QProcess::nullDevice()); // no terminal: a mutating command must not wait for an answer
    p.start(QStringLiteral(FLEETCTL_BINARY), args);
    Run r;
    if (!p.waitForFinished(120000)) {
        p.kill();
        p.waitForFinished();
        r.err = QStringLiteral("fleetctl did not finish");
        return r;
    }
    r.code = p.exitCode();
    r.out = p.readAllStandardOutput();
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

QList<QJsonObject> jsonLines(const QByteArray &out)
{
    QList<QJsonObject> lines;
    for (const QByteArray &line : out.split('\n')) {
        if (!line.isEmpty())
            lines << QJsonDocument::fromJson(line).object();
    }
    return lines;
}

} // namespace

// The scripted runbook: dry run, provision with --wait until the workers take builds, then the operation listed.
void TestFleetctl::provisionFollowedUntilIdle()
{
    const quint16 port = freePort();
    QProcess sim;
    startSim(sim, port);
    const QString api = QStringLiteral("http://127.0.0.1:%1").arg(port);
    const QStringList provision { QStringLiteral("provision"), QStringLiteral("--api"), api, QStringLiteral("--region"),
        QStringLiteral("eu-west"), QStringLiteral("--count"), QStringLiteral("2"), QStringLiteral("--arch"),
        QStringLiteral("aarch64"), QStringLiteral("--reason"), QStringLiteral("runbook step 3"),
        QStringLiteral("--json") };

    Run dry = fleetctl(provision + QStringList { QStringLiteral("--dry-run") });
    QVERIFY2(dry.code == 0, qPrintable(dry.err));
    auto lines = jsonLines(dry.out);
    QCOMPARE(lines.size(), 1);
    QCOMPARE(lines[0].value(QLatin1String("kind")).toString(), QStringLiteral("preview"));
    QCOMPARE(lines[0].value(QLatin1String("workers_affected")).toInt(), 2);

    // Without --yes and without a terminal: refused, nothing sent.
    Run unconfirmed = fleetctl(provision);
    QCOMPARE(unconfirmed.code, 3);
    QVERIFY2(unconfirmed.err.contains(QLatin1String("add --yes")), qPrintable(unconfirmed.err));

    Run done = fleetctl(provision
        + QStringList {
            QStringLiteral("--yes"), QStringLiteral("--wait"), QStringLiteral("--expires"), QStringLiteral("2h") });
    QVERIFY2(done.code == 0, qPrintable(done.err + QString::fromUtf8(done.out)));
    lines = jsonLines(done.out);
    const QJsonObject result = lines.last();
    QCOMPARE(result.value(QLatin1String("kind")).toString(), QStringLiteral("result"));
    QCOMPARE(result.value(QLatin1String("result")).toString(), QStringLiteral("succeeded"));
    QVERIFY2(result.value(QLatin1String("message")).toString().contains(QLatin1String("are taking builds")),
        qPrintable(result.value(QLatin1String("message")).toString()));
    const QString op = result.value(QLatin1String("operation")).toString();

    Run ops = fleetctl({ QStringLiteral("operations"), QStringLiteral("--api"), api }, "view-secret");
    QCOMPARE(ops.code, 0);
    QVERIFY2(ops.out.contains(QByteArray(op.toUtf8() + " succeeded provision 2 aarch64 eu-west by demo-operator")),
        ops.out.constData());
    QVERIFY2(ops.out.contains("[expires in 1"), ops.out.constData()); // 2 h on the fleet's clock, counting down
    sim.terminate();
    sim.waitForFinished();
}

void TestFleetctl::actionExitCodes()
{
    const quint16 port = freePort();
    QProcess sim;
    startSim(sim, port);
    const QString api = QStringLiteral("http://127.0.0.1:%1").arg(port);
    const auto drain = [&](const QString &region) {
        return QStringList { QStringLiteral("drain"), QStringLiteral("region"), region, QStringLiteral("--api"), api,
            QStringLiteral("--reason"), QStringLiteral("maintenance"), QStringLiteral("--yes") };
    };
    // A viewer: refused before anything is sent.
    Run viewer = fleetctl(drain(QStringLiteral("us-west")), "view-secret");
    QCOMPARE(viewer.code, 3);
    QVERIFY2(viewer.err.contains(QLatin1String("needs the operator role")), qPrintable(viewer.err));
    // Accepted.
    Run first = fleetctl(drain(QStringLiteral("us-west")));
    QVERIFY2(first.code == 0, qPrintable(first.err));
    QVERIFY2(first.out.startsWith("following: drain region us-west (op-"), first.out.constData());
    // Again: not an error, it says who drains it (the preview's 409 is shown plainly).
    Run again = fleetctl(drain(QStringLiteral("us-west")));
    QVERIFY2(again.code == 0, qPrintable(again.err));
    QVERIFY2(again.out.startsWith("already: drain region us-west: already being done by demo-operator since "),
        again.out.constData());
    QVERIFY2(again.out.contains("(op-000001): maintenance"), again.out.constData());
    // No such worker: refused (404), with the server's words.
    Run missing = fleetctl({ QStringLiteral("drain"), QStringLiteral("worker"), QStringLiteral("w-999999"),
        QStringLiteral("--api"), api, QStringLiteral("--reason"), QStringLiteral("x"), QStringLiteral("--yes") });
    QCOMPARE(missing.code, 3);
    QVERIFY2(missing.err.contains(QLatin1String("w-999999")), qPrintable(missing.err));
    // Unreachable.
    Run nobody = fleetctl({ QStringLiteral("status"), QStringLiteral("--api"),
        QStringLiteral("http://127.0.0.1:%1").arg(freePort()), QStringLiteral("--timeout"), QStringLiteral("2") });
    QCOMPARE(nobody.code, 5);
    QVERIFY2(nobody.err.contains(QLatin1String("no live connection")), qPrintable(nobody.err));
    // status and recommend read the same fleet.
    Run status = fleetctl({ QStringLiteral("status"), QStringLiteral("--api"), api, QStringLiteral("--json") });
    QCOMPARE(status.code, 0);
    const QJsonObject s = jsonLines(status.out).value(0);
    QCOMPARE(s.value(QLatin1String("regions")).toArray().size(), 6);
    Run rec = fleetctl({ QStringLiteral("recommend"), QStringLiteral("--api"), api, QStringLiteral("--region"),
        QStringLiteral("eu-central"), QStringLiteral("--json") });
    QCOMPARE(rec.code, 0);
    QCOMPARE(jsonLines(rec.out).value(0).value(QLatin1String("region")).toString(), QStringLiteral("eu-central"));
    sim.terminate();
    sim.waitForFinished();
}

// fleet-sim's start-up lines suggest a curl that works: the demo token only when the demo tokens are in force (issue
// #21, item 12: with --token it suggested view-secret, which then got 401).
void TestFleetctl::fleetSimSuggestsACurlThatWorks()
{
    for (const bool ownTokens : { false, true }) {
        QProcess sim;
        QStringList args { QStringLiteral("--port"), QString::number(freePort()) };
        if (ownTokens)
            args << QStringLiteral("--token") << QStringLiteral("viewer:mine-123");
        sim.start(QStringLiteral(FLEET_SIM_BINARY), args);
        QVERIFY(sim.waitForStarted());
        QByteArray output;
        QTRY_VERIFY_WITH_TIMEOUT((output += sim.readAllStandardOutput()).contains("try: curl"), 20000);
        QVERIFY2(output.contains("view-secret") != ownTokens, output.constData());
        QVERIFY2(output.contains("$YOUR_TOKEN") == ownTokens, output.constData());
        sim.terminate();
        sim.waitForFinished();
    }
}

QTEST_GUILESS_MAIN(TestFleetctl)
#include "tst_fleetctl.moc"

// The status page from a runbook: open, update and resolve with components by name; an open written while the
// page is down is queued (exit 5, said so), survives the process, and is delivered once by outbox --send.
void TestFleetctl::incidentThroughTheOutbox()
{
    QTemporaryDir data;
    const quint16 port = freePort();
    const QStringList page { QStringLiteral("--statuspage-url"),
        QStringLiteral("http://127.0.0.1:%1/statuspage/v1").arg(port), QStringLiteral("--page-id"),
        QStringLiteral("fleetdemo"), QStringLiteral("--json") };
    auto run = [&](const QStringList &args) {
        return fleetctl(QStringList { QStringLiteral("incident") } + args + page, "", data.path());
    };

    // Down: queued, not lost.
    Run queued
        = run({ QStringLiteral("open"), QStringLiteral("--name"), QStringLiteral("Builder partially degraded service"),
            QStringLiteral("--status"), QStringLiteral("investigating"), QStringLiteral("--body"),
            QStringLiteral("We are currently investigating this issue."), QStringLiteral("--no-notify"),
            QStringLiteral("--timeout"), QStringLiteral("3") });
    QCOMPARE(queued.code, 5);
    QVERIFY2(queued.err.contains(QLatin1String("stays queued")), qPrintable(queued.err));
    Run listed = run({ QStringLiteral("outbox") });
    QCOMPARE(listed.code, 0);
    QVERIFY2(jsonLines(listed.out).front().value(QLatin1String("state")).toString() != QLatin1String("delivered"),
        listed.out.constData());

    QProcess sim;
    startSim(sim, port);
    Run sent = run({ QStringLiteral("outbox"), QStringLiteral("--send") });
    QVERIFY2(sent.code == 0, qPrintable(sent.err + QString::fromUtf8(sent.out)));
    const QJsonObject opened = jsonLines(sent.out).front();
    QCOMPARE(opened.value(QLatin1String("state")).toString(), QStringLiteral("delivered"));
    const QString id = opened.value(QLatin1String("incident")).toString();
    QVERIFY(!id.isEmpty());

    Run updated = run({ QStringLiteral("update"), id, QStringLiteral("--status"), QStringLiteral("identified"),
        QStringLiteral("--body"), QStringLiteral("We have observed packet loss."), QStringLiteral("--component"),
        QStringLiteral("Application Builder=partial_outage") });
    QVERIFY2(updated.code == 0, qPrintable(updated.err + QString::fromUtf8(updated.out)));
    Run resolved = run({ QStringLiteral("resolve"), id, QStringLiteral("--body"),
        QStringLiteral("This incident has been resolved.") });
    QVERIFY2(resolved.code == 0, qPrintable(resolved.err + QString::fromUtf8(resolved.out)));
    Run list = run({ QStringLiteral("list") });
    QCOMPARE(list.code, 0);
    const auto incidents = jsonLines(list.out);
    QCOMPARE(incidents.size(), 1); // one incident: the queued open was not sent twice
    QCOMPARE(incidents.front().value(QLatin1String("status")).toString(), QStringLiteral("resolved"));
    QCOMPARE(incidents.front().value(QLatin1String("updates")).toArray().size(), 3);
    // The public page: the component back to operational.
    QNetworkAccessManager nam;
    QNetworkReply *reply = nam.get(QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1/status").arg(port))));
    QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 10000);
    const QByteArray html = reply->readAll();
    QVERIFY2(html.contains("All Systems Operational"), html.constData());
    delete reply;

    Run bad = run({ QStringLiteral("update"), id, QStringLiteral("--status"), QStringLiteral("fixed"),
        QStringLiteral("--body"), QStringLiteral("x") });
    QCOMPARE(bad.code, 2);
    QVERIFY2(bad.err.contains(QLatin1String("not an incident status")), qPrintable(bad.err));
    sim.terminate();
    sim.waitForFinished();
}

// fleetctl record takes the seed incident's onset off a live fleet-sim (240x) into a bundle; incident metrics reads the
// bundle back and stamps the time to detect; a damaged bundle and an empty record are refused with the reason.
void TestFleetctl::recordsAnIncidentAndMeasuresIt()
{
    QTemporaryDir data;
    const quint16 port = freePort();
    QProcess sim;
    sim.start(QStringLiteral(FLEET_SIM_BINARY),
        { QStringLiteral("--port"), QString::number(port), QStringLiteral("--speed"), QStringLiteral("240"),
            QStringLiteral("--scenario"), QStringLiteral("upstream-packet-loss") });
    QVERIFY(sim.waitForStarted());
    QByteArray output;
    QTRY_VERIFY_WITH_TIMEOUT(
        (output += sim.readAllStandardOutput()).contains("listening") || sim.state() != QProcess::Running, 20000);
    const QString api = QStringLiteral("http://127.0.0.1:%1").arg(port);
    const QString file = data.filePath(QStringLiteral("onset.jsonl"));
    // Fleet time 08:30 -> about 09:18: EU Central turns degraded around 09:01.
    Run recorded = fleetctl({ QStringLiteral("record"), QStringLiteral("--api"), api, QStringLiteral("--for"),
                                QStringLiteral("12s"), QStringLiteral("--out"), file, QStringLiteral("--json") },
        "view-secret", data.path());
    QVERIFY2(recorded.code == 0, qPrintable(recorded.err + QString::fromUtf8(recorded.out)));
    const QJsonObject done = jsonLines(recorded.out).value(0);
    QCOMPARE(done.value(QLatin1String("kind")).toString(), QStringLiteral("recorded"));
    QVERIFY(done.value(QLatin1String("sample_blocks")).toInt() > 6 * 40);

    Run metrics = fleetctl({ QStringLiteral("incident"), QStringLiteral("metrics"), QStringLiteral("--bundle"), file,
                               QStringLiteral("--json") },
        "", data.path());
    QVERIFY2(metrics.code == 0, qPrintable(metrics.err + QString::fromUtf8(metrics.out)));
    const QJsonObject m = QJsonDocument::fromJson(metrics.out).object();
    QCOMPARE(m.value(QLatin1String("region")).toString(), QStringLiteral("eu-central"));
    const double detect
        = m.value(QLatin1String("time_to_detect")).toObject().value(QLatin1String("seconds")).toDouble(-1);
    QVERIFY2(detect >= 30 && detect <= 120, metrics.out.constData()); // the hold time, and what 240x adds
    // The configured loss crosses 5 % at 09:00:16; the verdict's mean over a minute follows within the minute.
    const QString symptom = m.value(QLatin1String("first_symptom")).toString();
    QVERIFY2(symptom >= QLatin1String("2025-11-12T09:00:16Z") && symptom <= QLatin1String("2025-11-12T09:01:30Z"),
        qPrintable(symptom));
    QVERIFY(m.value(QLatin1String("time_to_acknowledge"))
                .toObject()
                .value(QLatin1String("missing"))
                .toString()
                .contains(QLatin1String("no status update or operation")));
    Run text = fleetctl(
        { QStringLiteral("incident"), QStringLiteral("metrics"), QStringLiteral("--bundle"), file }, "", data.path());
    QCOMPARE(text.code, 0);
    QVERIFY2(text.out.contains("time to detect"), text.out.constData());

    // A damaged bundle: refused with its line; nothing measured.
    QFile f(file);
    QVERIFY(f.open(QIODevice::Append));
    f.write(R"({"at":"2025-11-12T09:30:00Z","kind":"verdict","region":"../etc","to":"down"})"
            "\n");
    f.close();
    Run bad = fleetctl(
        { QStringLiteral("incident"), QStringLiteral("metrics"), QStringLiteral("--bundle"), file }, "", data.path());
    QCOMPARE(bad.code, 2);
    QVERIFY2(bad.err.contains(QLatin1String("onset.jsonl: line")) && bad.err.contains(QLatin1String("region")),
        qPrintable(bad.err));
    // No console ever recorded here: the local store says so.
    Run empty = fleetctl({ QStringLiteral("incident"), QStringLiteral("export"), QStringLiteral("--out"),
                             data.filePath(QStringLiteral("x.jsonl")) },
        "", data.path());
    QCOMPARE(empty.code, 2);
    QVERIFY2(empty.err.contains(QLatin1String("no incident record yet")), qPrintable(empty.err));
    QVERIFY(!QFile::exists(data.filePath(QStringLiteral("x.jsonl"))));
    sim.terminate();
    sim.waitForFinished();
}
