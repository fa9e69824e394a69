#include "demofleet.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryFile>

#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>

namespace fleet {

Q_LOGGING_CATEGORY(lcDemo, "fleet.demo")

namespace {

QString randomToken()
{
    quint32 words[6];
    QRandomGenerator::system()->fillRange(words);
    QString out;
    for (quint32 w : words)
        out += QStringLiteral("%1").arg(w, 8, 16, QLatin1Char('0'));
    return out;
}

} // namespace

DemoFleet::DemoFleet(QObject *parent)
    : QObject(parent)
{
    // The child is asked to die with this process, whichever way it ends (even SIGKILL).
    const pid_t parentPid = getpid();
    m_process.setChildProcessModifier([parentPid] {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parentPid) // the parent died before the line above: nobody will stop this child
            _exit(1);
    });
    m_process.setProcessChannelMode(QProcess::SeparateChannels);
    // The child logs every stream it serves: its pipes are read all the time (a full pipe would stop it mid-write
    // and freeze the demo), keeping only the tail of stderr for a message should it exit.
    connect(&m_process, &QProcess::readyReadStandardError, this, &DemoFleet::drainStderr);
    connect(&m_process, &QProcess::readyReadStandardOutput, this, [this] {
        if (m_started)
            m_process.readAllStandardOutput();
    });
    connect(&m_process, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
        drainStderr();
        if (m_stopping)
            return;
        Q_EMIT exitedUnexpectedly(status == QProcess::CrashExit
                ? tr("the demo's fleet-sim crashed")
                : tr("the demo's fleet-sim exited with code %1: %2")
                      .arg(code)
                      .arg(QString::fromLocal8Bit(m_stderrTail).trimmed()));
    });
}

DemoFleet::~DemoFleet()
{
    stop();
}

void DemoFleet::drainStderr()
{
    constexpr qsizetype kTail = 4096;
    m_stderrTail += m_process.readAllStandardError();
    if (m_stderrTail.size() > kTail)
        m_stderrTail = m_stderrTail.right(kTail);
}

Result<QString> DemoFleet::findSimulator()
{
    const QString here = QCoreApplication::applicationDirPath();
    const QStringList candidates { QDir(here).filePath(QStringLiteral("fleet-sim")),
        QDir(here).filePath(QStringLiteral("../fleet-sim/fleet-sim")) };
    for (const QString &c : candidates) {
        const QFileInfo f(c);
        if (f.isFile() && f.isExecutable())
            return Result<QString>::success(f.canonicalFilePath());
    }
    const QString onPath = QStandardPaths::findExecutable(QStringLiteral("fleet-sim"));
    if (!onPath.isEmpty())
        return Result<QString>::success(onPath);
    return Result<QString>::failure(
        tr("--demo needs the fleet-sim program, which is installed beside fleet-console; it is not in %1, in %2 or on "
           "the PATH. Install Fleet Console completely (cmake --install, or the .deb), or build the fleet-sim target.")
            .arg(QDir::toNativeSeparators(here),
                QDir::toNativeSeparators(QDir(here).filePath(QStringLiteral("../fleet-sim")))));
}

Status DemoFleet::start(const Options &options, int timeoutMs)
{
    stop();
    m_stopping = false;
    m_started = false;
    m_stderrTail.clear();
    QString program = options.program;
    if (program.isEmpty()) {
        const Result<QString> found = findSimulator();
        if (!found)
            return Status::failure(found.error());
        program = found.value();
    }
    // Fresh tokens for this run, handed over in a file only this user can read (never on the command line, where
    // every local user could see them); fleet-sim reads it while starting, and it is removed as soon as it listens.
    m_operatorToken = randomToken();
    m_viewerToken = randomToken();
    QTemporaryFile tokens(QDir::temp().filePath(QStringLiteral("fleet-demo-tokens-XXXXXX.json")));
    if (!tokens.open())
        return Status::failure(
            tr("Could not write the demo's token file in %1: %2").arg(QDir::tempPath(), tokens.errorString()));
    QJsonArray list;
    list.append(QJsonObject { { QStringLiteral("token"), m_operatorToken },
        { QStringLiteral("role"), QStringLiteral("operator") },
        { QStringLiteral("name"), QStringLiteral("you (demo)") } });
    list.append(
        QJsonObject { { QStringLiteral("token"), m_viewerToken }, { QStringLiteral("role"), QStringLiteral("viewer") },
            { QStringLiteral("name"), QStringLiteral("wall display (demo)") } });
    tokens.write(QJsonDocument(QJsonObject { { QStringLiteral("tokens"), list } }).toJson(QJsonDocument::Compact));
    tokens.flush();

    QStringList args { QStringLiteral("--scenario"), options.scenario, QStringLiteral("--port"), QStringLiteral("0"),
        QStringLiteral("--bind"), QStringLiteral("127.0.0.1"), QStringLiteral("--speed"),
        QString::number(options.speed), QStringLiteral("--seed"), QString::number(options.seed),
        QStringLiteral("--tokens-file"), tokens.fileName() };
    if (options.workers > 0)
        args << QStringLiteral("--workers") << QString::number(options.workers);
    if (options.warmupSeconds >= 0)
        args << QStringLiteral("--warmup") << QString::number(options.warmupSeconds);
    if (options.scriptedOperator)
        args << QStringLiteral("--scripted-operator");
    m_process.start(program, args, QIODevice::ReadOnly);
    if (!m_process.waitForStarted(5000))
        return Status::failure(tr("Could not start the demo's simulator %1: %2").arg(program, m_process.errorString()));

    // fleet-sim prints "fleet-sim listening on http://127.0.0.1:PORT" once it serves.
    static const QRegularExpression listening(QStringLiteral("listening on (http://127\\.0\\.0\\.1:(\\d+))"));
    QByteArray out;
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        drainStderr(); // while starting too: a chatty child must not block before it listens
        if (m_process.state() != QProcess::Running) {
            drainStderr();
            const QString err = QString::fromLocal8Bit(m_stderrTail).trimmed();
            return Status::failure(tr("The demo's simulator stopped while starting: %1")
                                       .arg(err.isEmpty() ? tr("exit code %1").arg(m_process.exitCode()) : err));
        }
        m_process.waitForReadyRead(int(std::min<qint64>(deadline.remainingTime(), 200)));
        out += m_process.readAllStandardOutput();
        const QRegularExpressionMatch m = listening.match(QString::fromUtf8(out));
        if (m.hasMatch()) {
            m_url = QUrl(m.captured(1));
            static const QRegularExpression size(QStringLiteral("scenario (\\S+), (\\d+) workers"));
            const QRegularExpressionMatch fleet = size.match(QString::fromUtf8(out));
            m_description = tr("%1, %2 workers, %3x")
                                .arg(options.scenario, fleet.hasMatch() ? fleet.captured(2) : QStringLiteral("?"))
                                .arg(options.speed);
            qCInfo(lcDemo).noquote() << "demo fleet-sim" << processId() << "serving on" << m_url.toDisplayString();
            m_started = true;
            return Status::success();
        }
    }
    stop();
    return Status::failure(tr("The demo's simulator did not start serving within %1 s.").arg(timeoutMs / 1000));
}

void DemoFleet::stop()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_stopping = true;
    m_process.terminate();
    if (!m_process.waitForFinished(3000)) {
        m_process.kill();
        m_process.waitForFinished(2000);
    }
}

qint64 DemoFleet::processId() const
{
    return m_process.processId();
}

} // namespace fleet
