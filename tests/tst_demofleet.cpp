// The console's --demo with real processes: fleet-sim starts as a child on a free loopback port with fresh tokens,
// serves, and is gone after the console exits and after the console is killed with SIGKILL; a missing fleet-sim
// gives a clear message.

#include "demofleet.h"

#include <QDir>
#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/types.h>

using namespace fleet;

namespace {

bool processExists(qint64 pid)
{
    if (pid <= 0)
        return false;
    // A zombie has exited but is still listed: read its state.
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return false;
    const QByteArray s = stat.readAll();
    const int close = s.lastIndexOf(')');
    return close > 0 && s.size() > close + 2 && s[close + 2] != 'Z';
}

int getStatus(const QUrl &url, const QString &token)
{
    QNetworkAccessManager nam;
    QNetworkRequest request(url);
    request.setRawHeader("Authorization", "Bearer " + token.toLatin1());
    QNetworkReply *reply = nam.get(request);
    QSignalSpy done(reply, &QNetworkReply::finished);
    done.wait(10000);
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    reply->deleteLater();
    return status;
}

// Starts the real console with --demo and returns the pid of its fleet-sim, read from its log.
qint64 startConsole(QProcess &console, const QStringList &extra)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("QT_LOGGING_RULES"), QStringLiteral("fleet.demo.info=true"));
    env.insert(QStringLiteral("FLEET_CONSOLE_DATA"), QDir::temp().filePath(QStringLiteral("fleet-demo-test-data")));
    console.setProcessEnvironment(env);
    console.setProcessChannelMode(QProcess::MergedChannels);
    console.start(QStringLiteral(FLEET_CONSOLE_BINARY), QStringList { QStringLiteral("--demo") } + extra);
    if (!console.waitForStarted(10000))
        return -1;
    static const QRegularExpression serving(QStringLiteral("demo fleet-sim (\\d+) serving on"));
    QByteArray out;
    for (int i = 0; i < 300; ++i) {
        console.waitForReadyRead(100);
        out += console.readAll();
        const QRegularExpressionMatch m = serving.match(QString::fromUtf8(out));
        if (m.hasMatch())
            return m.captured(1).toLongLong();
        if (console.state() != QProcess::Running)
            break;
    }
    qWarning("console said: %s", out.constData());
    return -1;
}

} // namespace

class TestDemoFleet : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        // A temporary folder of this test's own, so that the token file check sees only this test's files.
        QVERIFY(m_tmp.isValid());
        qputenv("TMPDIR", QFile::encodeName(m_tmp.path()));
    }

    void startsServesAndStops()
    {
        DemoFleet demo;
        DemoFleet::Options o;
        o.program = QStringLiteral(FLEET_SIM_BINARY);
        o.speed = 60;
        const Status started = demo.start(o);
        QVERIFY2(started, qPrintable(started.error()));
        QVERIFY(demo.isRunning());
        QCOMPARE(demo.url().host(), QStringLiteral("127.0.0.1"));
        QVERIFY(demo.url().port() > 0);
        QVERIFY2(demo.description().contains(QLatin1String("upstream-packet-loss")), qPrintable(demo.description()));
        // Fresh random tokens, not the well-known defaults.
        QCOMPARE(demo.operatorToken().size(), 48);
        QVERIFY(demo.operatorToken() != demo.viewerToken());
        const QUrl me = demo.url().resolved(QUrl(QStringLiteral("/v1/me")));
        QCOMPARE(getStatus(me, demo.operatorToken()), 200);
        QCOMPARE(getStatus(me, QStringLiteral("op-secret")), 401);
        // The token file was only for starting: it is gone.
        QCOMPARE(QDir::tempPath(), m_tmp.path());
        QVERIFY(QDir(m_tmp.path()).entryList({ QStringLiteral("fleet-demo-tokens-*") }, QDir::Files).isEmpty());
        const qint64 pid = demo.processId();
        QVERIFY(processExists(pid));
        demo.stop();
        QVERIFY(!processExists(pid));
    }

    void missingSimulatorIsExplained()
    {
        DemoFleet demo;
        DemoFleet::Options o;
        o.program = QStringLiteral("/nonexistent/fleet-sim");
        const Status started = demo.start(o);
        QVERIFY(!started);
        QVERIFY2(started.error().contains(QLatin1String("/nonexistent/fleet-sim")), qPrintable(started.error()));
        // Looked up from a folder without one (this test's own), the search says where it looked.
        const Result<QString> found = DemoFleet::findSimulator();
        if (!found) {
            QVERIFY2(found.error().contains(QLatin1String("fleet-sim")), qPrintable(found.error()));
            QVERIFY2(found.error().contains(QLatin1String("PATH")), qPrintable(found.error()));
        }
    }

    void aChattyChildCostsBoundedMemory()
    {
        // fleet-sim logs every stream it serves to stderr, for the whole demo. QProcess would keep all of it in
        // memory unread; the console keeps the last 4 KB, for the message when the child exits.
        const QString script = m_tmp.filePath(QStringLiteral("chatty-sim"));
        QFile f(script);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("#!/bin/sh\nhead -c 300000 /dev/zero | tr '\\0' x >&2\n"
                "echo 'fleet-sim listening on http://127.0.0.1:1'\n"
                "echo '  scenario chatty, 1 workers'\n"
                "sleep 1\nhead -c 900000 /dev/zero | tr '\\0' y >&2\n"
                "echo 'last words' >&2\nexit 3\n");
        f.close();
        QVERIFY(f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
        DemoFleet demo;
        QString why;
        connect(&demo, &DemoFleet::exitedUnexpectedly, this, [&](const QString &w) { why = w; });
        DemoFleet::Options o;
        o.program = script;
        const Status started = demo.start(o, 10000);
        QVERIFY2(started, qPrintable(started.error()));
        QTRY_VERIFY_WITH_TIMEOUT(!why.isEmpty(), 10000);
        QVERIFY2(why.contains(QLatin1String("exited with code 3")), qPrintable(why.left(200)));
        QVERIFY2(why.endsWith(QLatin1String("last words")), qPrintable(why.right(200)));
        QVERIFY2(why.size() < 5000, qPrintable(QString::number(why.size())));
    }

    void childIsGoneAfterTheConsoleExits()
    {
        QProcess console;
        const QString shot = QDir::temp().filePath(QStringLiteral("fleet-demo-test.png"));
        const qint64 sim = startConsole(
            console, { QStringLiteral("--screenshot"), shot, QStringLiteral("--after"), QStringLiteral("1") });
        QVERIFY(sim > 0);
        QVERIFY(console.waitForFinished(30000));
        QCOMPARE(console.exitCode(), 0);
        QTRY_VERIFY_WITH_TIMEOUT(!processExists(sim), 5000);
        QFile::remove(shot);
    }

    void childIsGoneAfterTheConsoleIsKilled()
    {
        QProcess console;
        const qint64 sim = startConsole(console, {});
        QVERIFY(sim > 0);
        QVERIFY(processExists(sim));
        ::kill(pid_t(console.processId()), SIGKILL); // no chance to clean up: the kernel tells the child
        QVERIFY(console.waitForFinished(10000));
        QTRY_VERIFY_WITH_TIMEOUT(!processExists(sim), 10000);
    }

private:
    QTemporaryDir m_tmp;
};

QTEST_GUILESS_MAIN(TestDemoFleet)
#include "tst_demofleet.moc"
