#include "privatebus.h"

#include <QFile>
#include <QStandardPaths>

PrivateSessionBus::~PrivateSessionBus()
{
    if (m_daemon.state() != QProcess::NotRunning) {
        m_daemon.terminate();
        m_daemon.waitForFinished(5000);
    }
}

bool PrivateSessionBus::start(QString *error)
{
    if (QStandardPaths::findExecutable(QStringLiteral("dbus-daemon")).isEmpty()) {
        *error = QStringLiteral("dbus-daemon is missing: run scripts/install-deps");
        return false;
    }
    if (!m_dir.isValid()) {
        *error = QStringLiteral("no temporary folder for the bus");
        return false;
    }
    QFile config(m_dir.filePath(QStringLiteral("bus.conf")));
    if (!config.open(QIODevice::WriteOnly)) {
        *error = config.errorString();
        return false;
    }
    config.write(QStringLiteral(R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=%1</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
</busconfig>
)")
                     .arg(m_dir.path())
                     .toUtf8());
    config.close();
    m_daemon.start(QStringLiteral("dbus-daemon"),
        { QStringLiteral("--config-file=") + config.fileName(), QStringLiteral("--nofork"),
            QStringLiteral("--nopidfile"), QStringLiteral("--print-address=1") });
    if (!m_daemon.waitForReadyRead(10000)) {
        *error = QStringLiteral("dbus-daemon did not answer: %1").arg(m_daemon.errorString());
        return false;
    }
    m_address = m_daemon.readLine().trimmed();
    if (!m_address.startsWith("unix:")) {
        *error = QStringLiteral("dbus-daemon printed no address: %1").arg(QString::fromUtf8(m_address));
        return false;
    }
    return true;
}
