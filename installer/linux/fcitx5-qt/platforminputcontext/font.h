/* MiBao: declaration of parseFont, defined in installer/linux/mibao-fcitx-font.cpp (upstream's
 * font.h/font.cpp are GPL-2.0-or-later and are not carried; see ../README.md). */
#ifndef MIBAO_FCITX_FONT_H
#define MIBAO_FCITX_FONT_H

#include <QFont>
#include <QString>

namespace fcitx {
QFont parseFont(const QString &description);
}

#endif
