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

PrivateKeyring::~PrivateKeyring()
{
    if (m_keyring.state() != QProcess::NotRunning) {
        m_keyring.terminate();
        m_keyring.waitForFinished(5000);
    }
    qunsetenv("DBUS_SESSION_BUS_ADDRESS");
}

bool PrivateKeyring::start(QString *error)
{
    if (QStandardPaths::findExecutable(QStringLiteral("gnome-keyring-daemon")).isEmpty()) {
        *error = QStringLiteral("gnome-keyring-daemon is missing: run scripts/install-deps");
        return false;
    }
    if (!m_home.isValid()) {
        *error = QStringLiteral("no temporary home for the keyring");
        return false;
    }
    if (!m_bus.start(error))
        return false;
    qputenv("DBUS_SESSION_BUS_ADDRESS", m_bus.address());
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), QString::fromUtf8(m_bus.address()));
    env.insert(QStringLiteral("HOME"), m_home.path());
    env.insert(QStringLiteral("XDG_DATA_HOME"), m_home.filePath(QStringLiteral("data")));
    env.insert(QStringLiteral("XDG_RUNTIME_DIR"), m_home.path());
    m_keyring.setProcessEnvironment(env);
    m_keyring.start(QStringLiteral("gnome-keyring-daemon"),
        { QStringLiteral("--foreground"), QStringLiteral("--components=secrets"), QStringLiteral("--unlock") });
    if (!m_keyring.waitForStarted(10000)) {
        *error = m_keyring.errorString();
        return false;
    }
    m_keyring.write("fleet-test-password"); // the new login keyring's password, on standard input
    m_keyring.closeWriteChannel();
    return true;
}
