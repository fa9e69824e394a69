// fleetctl watch as a user runs it: real processes, fleet-sim killed and restarted on the same port.

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
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

QTEST_GUILESS_MAIN(TestFleetctl)
#include "tst_fleetctl.moc"
