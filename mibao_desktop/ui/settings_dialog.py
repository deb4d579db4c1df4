"""安全策略: the password policy, lockout, idle lock and backup rotation, as one form."""

from __future__ import annotations

from dataclasses import fields

from PySide6.QtWidgets import QDialog, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from mibao_desktop.security.passwords import SecurityPolicy
from mibao_desktop.errors import ServiceError
from mibao_desktop.services.settings import SettingsService
from mibao_desktop.ui import messages
from mibao_desktop.ui.login import _buttons, _error_label
from mibao_desktop.ui.widgets import AsksBeforeDiscarding


class SettingsDialog(AsksBeforeDiscarding, QDialog):
    def __init__(self, settings: SettingsService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("安全策略")
        policy = settings.security_policy()
        self.spins: dict[str, QSpinBox] = {}
        form = QFormLayout()
        for f in fields(SecurityPolicy):
            spin = QSpinBox()
            low, high = SecurityPolicy.LIMITS[f.name]
            spin.setRange(low, high)
            spin.setValue(getattr(policy, f.name))
            form.addRow(SecurityPolicy.LABELS[f.name], spin)
            self.spins[f.name] = spin
        self.error = _error_label()
        note = QLabel("默认值依据保密管理制度:口令不少于10位、三种以上字符、每周更换;连续5次错误锁定30分钟。")
        note.setWordWrap(True)
        # the floors come from the policy itself, so that what is said is what is enforced
        self.floors = QLabel("下限:" + SecurityPolicy.FLOORS)
        self.floors.setWordWrap(True)
        self.floors.setStyleSheet("font-weight: bold;")
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.floors)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "保存", self.save))

    def save(self) -> None:
        try:
            self.settings.set_security_policy(SecurityPolicy(**{k: s.value() for k, s in self.spins.items()}))
        except ServiceError as exc:
            messages.inline(self.error, exc)
            return
        self.accept()


class PrintSettingsDialog(AsksBeforeDiscarding, QDialog):
    """打印设置: the unit's name on forms, and the colour of each level on labels."""

    def __init__(self, printing, parent: QWidget | None = None) -> None:
        from PySide6.QtWidgets import QColorDialog, QLineEdit, QPushButton

        super().__init__(parent)
        self.printing = printing
        self.setWindowTitle("打印设置")
        self.unit = QLineEdit(printing.unit_name())
        self.unit.setPlaceholderText("如:中国航天科工集团第二研究院七〇六所保密办公室")
        self.unit.setToolTip("印在审批表、标识和导出的报表上")
        self.unit.setMinimumWidth(self.unit.fontMetrics().horizontalAdvance("中" * 26))
        self.colours = dict(printing.colours())
        self.buttons: dict[str, QPushButton] = {}
        form = QFormLayout()
        form.addRow("单位名称", self.unit)
        for level in self.colours:
            button = QPushButton(self.colours[level])
            button.clicked.connect(lambda _c=False, lv=level: self._pick(lv, QColorDialog))
            self.buttons[level] = button
            form.addRow(f"{level}标识颜色", button)
        self._paint()
        self.error = _error_label()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "保存", self.save))

    def _paint(self) -> None:
        for level, button in self.buttons.items():
            button.setText(self.colours[level])
            button.setStyleSheet(f"background: {self.colours[level]}; color: white; font-weight: bold;")

    def _pick(self, level: str, dialog) -> None:
        from PySide6.QtGui import QColor

        chosen = dialog.getColor(QColor(self.colours[level]), self, f"{level}标识颜色")
        if chosen.isValid():
            self.set_colour(level, chosen.name())

    def set_colour(self, level: str, colour: str) -> None:
        self.colours[level] = colour.upper()
        self._paint()

    def save(self) -> None:
        try:
            if self.unit.text().strip() != self.printing.unit_name():
                self.printing.set_unit_name(self.unit.text())
            current = self.printing.colours()
            for level, colour in self.colours.items():
                if current.get(level) != colour:
                    self.printing.set_colour(level, colour)
        except ServiceError as exc:
            messages.inline(self.error, exc)
            return
        self.accept()


class UnitLevelsDialog(AsksBeforeDiscarding, QDialog):
    """本单位密级: the levels the unit uses beyond the three (涉密专用, 内部), each ranked where
    the security administrator puts it. The list is the unit's order, highest first: the
    three and 非涉密 stay in their places; an own level is added under the level chosen, moved
    with 上移/下移, ticked when it is managed as 涉密. The service checks and saves it."""

    def __init__(self, settings: SettingsService, parent: QWidget | None = None) -> None:
        from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QListWidget,
                                       QPushButton)

        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("本单位密级")
        current = settings.unit_levels()
        note = QLabel("绝密、机密、秘密三级之外,本单位使用的密级(如涉密专用、内部)在此添加,并排在您指定的位置。"
                      "勾选的按涉密管理:可用于涉密计算机、国家秘密载体等台账,连接它的打印机视为涉密设备;"
                      "未勾选的(如内部)只用于同时登记非涉密设备的台账。导入时表中出现未设置的密级,不会当作三级之一。")
        note.setWordWrap(True)
        self.list = QListWidget()
        for level in current.order:
            self._add_item(level, level in current.classified)
        self.list.currentRowChanged.connect(lambda _row: self._enable())
        self.name = QLineEdit()
        self.name.setPlaceholderText("如:涉密专用")
        self.below = QComboBox()
        self.classified = QCheckBox("按涉密管理")
        self.add_button = QPushButton("添加")
        self.add_button.clicked.connect(self.add)
        adding = QHBoxLayout()
        for widget in (QLabel("密级名称"), self.name, QLabel("排在"), self.below, QLabel("之下"), self.classified,
                       self.add_button):
            adding.addWidget(widget)
        self.up, self.down, self.remove = QPushButton("上移"), QPushButton("下移"), QPushButton("删除")
        self.up.clicked.connect(lambda: self.move(-1))
        self.down.clicked.connect(lambda: self.move(1))
        self.remove.clicked.connect(self.remove_selected)
        moving = QVBoxLayout()
        for button in (self.up, self.down, self.remove):
            moving.addWidget(button)
        moving.addStretch(1)
        listed = QHBoxLayout()
        listed.addWidget(self.list, 1)
        listed.addLayout(moving)
        self.error = _error_label()
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(QLabel("本单位的密级(由高到低):"))
        layout.addLayout(listed)
        layout.addLayout(adding)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "保存", self.save))
        self._refresh_below()
        self._enable()
        self.resize(self.sizeHint().width(), 420)

    # -- the list --------------------------------------------------------------------------

    def _add_item(self, level: str, classified: bool, row: int | None = None) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QListWidgetItem

        from mibao_desktop.ledgers import levels

        item = QListWidgetItem(level)
        item.setData(Qt.ItemDataRole.UserRole, level)
        if level in levels.DEVICE_LEVELS:  # the built-in levels: fixed, not ticked, not moved
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
            item.setText(f"{level}(通用)")
        else:
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if classified else Qt.CheckState.Unchecked)
            item.setText(f"{level}(本单位)")
        if row is None:
            self.list.addItem(item)
        else:
            self.list.insertItem(row, item)

    def order(self) -> list[str]:
        from PySide6.QtCore import Qt

        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def classified_levels(self) -> list[str]:
        from PySide6.QtCore import Qt

        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).flags() & Qt.ItemFlag.ItemIsUserCheckable
                and self.list.item(i).checkState() == Qt.CheckState.Checked]

    def _own_row(self) -> int:
        """The selected row when it holds an own level (-1 otherwise)."""
        from mibao_desktop.ledgers import levels

        row = self.list.currentRow()
        return row if row >= 0 and self.order()[row] not in levels.DEVICE_LEVELS else -1

    def _enable(self) -> None:
        row = self._own_row()
        self.up.setEnabled(row > 1)  # never above 绝密
        self.down.setEnabled(0 <= row < self.list.count() - 2)  # never below 非涉密
        self.remove.setEnabled(row >= 0)

    def _refresh_below(self) -> None:
        chosen = self.below.currentText()
        self.below.clear()
        self.below.addItems(self.order()[:-1])
        self.below.setCurrentText(chosen if chosen in self.order()[:-1] else self.order()[-2])

    # -- changes (kept in the list until 保存) -----------------------------------------------

    def add(self) -> None:
        from mibao_desktop.ledgers import levels

        try:
            name = levels.own_name(self.name.text())
        except levels.FieldError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        if name in self.order():
            self.error.setText(f"“{name}”已在本单位的密级中")
            self.error.show()
            return
        row = self.order().index(self.below.currentText()) + 1
        self._add_item(name, self.classified.isChecked(), row)
        self.list.setCurrentRow(row)
        self.name.clear()
        self.classified.setChecked(False)  # each level's own choice, not the last one's
        self.error.hide()
        self._refresh_below()

    def move(self, step: int) -> None:
        from PySide6.QtCore import Qt

        row = self._own_row()
        if row < 0:
            return
        target = row + step
        if target < 1 or target > self.list.count() - 2:
            return
        item = self.list.item(row)
        classified = item.checkState() == Qt.CheckState.Checked
        level = item.data(Qt.ItemDataRole.UserRole)
        self.list.takeItem(row)
        self._add_item(level, classified, target)
        self.list.setCurrentRow(target)
        self._refresh_below()

    def remove_selected(self) -> None:
        row = self._own_row()
        if row >= 0:
            self.list.takeItem(row)
            self._refresh_below()
            self._enable()

    def save(self) -> None:
        try:
            self.settings.set_unit_levels(self.order(), self.classified_levels())
        except ServiceError as exc:
            messages.inline(self.error, exc)
            return
        self.accept()


class _PerGradeDialog(AsksBeforeDiscarding, QDialog):
    """One number per grade of 涉密人员 (复审周期, 脱密期, 培训最低学时): a note saying what it
    governs, a spin box per grade, and 保存 through the service that checks, stores and audits it;
    a refusal is shown in the dialog, nothing typed lost."""

    def __init__(self, title: str, note: str, grades, spin_for, label: str, save, parent: QWidget | None,
                 width: int = 420) -> None:
        super().__init__(parent)
        self._save = save
        self.setWindowTitle(title)
        said = QLabel(note)
        said.setWordWrap(True)
        form = QFormLayout()
        self.spins = {}
        for grade in grades:
            self.spins[grade] = spin_for(grade)
            form.addRow(label.format(grade=grade), self.spins[grade])
        self.error = _error_label()
        layout = QVBoxLayout(self)
        layout.addWidget(said)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "保存", self.save))
        self.resize(width, self.sizeHint().height())

    def values(self) -> dict:
        return {grade: spin.value() for grade, spin in self.spins.items()}

    def save(self) -> None:
        try:
            self._save(self.values())
        except ServiceError as exc:
            messages.inline(self.error, exc)
            return
        self.accept()


def _whole_spin(low: int, high: int, suffix: str, value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setSuffix(suffix)
    spin.setValue(value)
    return spin


class ReviewIntervalsDialog(_PerGradeDialog):
    """复审周期: how often each grade of 涉密人员 is reviewed again, in whole years (the unit's
    setting; 核心 1, 重要 3, 一般 5 by default). Saving recomputes everyone's 下次复审日期 (the
    service does, in the same transaction)."""

    def __init__(self, settings: SettingsService, parent: QWidget | None = None) -> None:
        from mibao_desktop.ledgers import people

        self.settings = settings
        current = settings.review_intervals()
        super().__init__("复审周期", "涉密人员按涉密等级定期复审。下次复审日期按上次复审日期(从未复审的按任前审查日期)加上周期算出;"
                         "修改周期后,该等级所有人员的下次复审日期随即重算。", people.GRADES,
                         lambda g: _whole_spin(1, people.REVIEW_YEARS_MAX, " 年", current[g]), "{grade}涉密人员",
                         settings.set_review_intervals, parent)


class DecommissionDialog(_PerGradeDialog):
    """脱密期: how long each grade of 涉密人员 stays in the 脱密期 after leaving, in months, within
    seed 003 第七条's 6 months to 3 years (核心 3 年, 重要 2 年, 一般 1 年 by default). A period
    already set keeps its end; the next departures count with the new months."""

    def __init__(self, departure, parent: QWidget | None = None) -> None:
        from mibao_desktop.ledgers import decommission

        self.departure = departure
        current = departure.periods()
        super().__init__("脱密期", "涉密人员辞职、调动,需进行脱密期管理,脱密期一般为6个月至3年(涉密人员管理制度第七条)。"
                         "离岗离职办理完毕之日起算;已在脱密期内的人员不受修改影响。", decommission.DEFAULT_MONTHS,
                         lambda g: _whole_spin(decommission.MIN_MONTHS, decommission.MAX_MONTHS, " 个月", current[g]),
                         "{grade}涉密人员", departure.set_periods, parent)


class ExitDocumentPeriodsDialog(AsksBeforeDiscarding, QDialog):
    """出入境证件: the days after a trip's 回国(境)日期 within which the document is due back (10 by
    default, seed 000: 回国(境)10天内交组织人事部门集中保管), and how many days before expiry a
    document is listed. A document already handed out keeps the day it was due when handed out."""

    def __init__(self, travel, parent: QWidget | None = None) -> None:
        from mibao_desktop.services.travel import MAX_DAYS

        super().__init__(parent)
        self.travel = travel
        self.setWindowTitle("出入境证件期限")
        note = QLabel("因私出入境证件应在回国(境)后规定时间内交回单位集中保管;超过期限未交回的列为逾期。"
                      "修改后新领取的证件按新期限计算应交回日期。")
        note.setWordWrap(True)
        back, warn = travel.periods()
        self.back, self.warn = QSpinBox(), QSpinBox()
        for spin, value in ((self.back, back), (self.warn, warn)):
            spin.setRange(1, MAX_DAYS)
            spin.setSuffix(" 天")
            spin.setValue(value)
        form = QFormLayout()
        form.addRow("回国(境)后交回期限", self.back)
        form.addRow("有效期到期前提醒", self.warn)
        self.error = _error_label()
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "保存", self.save))
        self.resize(420, self.sizeHint().height())

    def save(self) -> None:
        try:
            self.travel.set_periods(return_days=self.back.value(), expiry_days=self.warn.value())
        except ServiceError as exc:
            messages.inline(self.error, exc)
            return
        self.accept()


class TrainingMinimumsDialog(_PerGradeDialog):
    """培训最低学时: each grade's minimum hours of 保密教育培训 a year (seed 002 §六 1: 核心 and 重要
    8, 一般 4 by default), one decimal as the sessions' 学时 take. The compliance list and the
    首页 count against them from the moment they are saved (the hours attended do not change)."""

    def __init__(self, training, parent: QWidget | None = None) -> None:
        from mibao_desktop.ledgers.people import GRADES
        from mibao_desktop.ledgers.trainings import RULE

        self.training = training
        current = training.minimums()  # tenths of an hour

        def spin_for(grade: str) -> QDoubleSpinBox:
            spin = QDoubleSpinBox()
            spin.setDecimals(1)
            spin.setRange(0, 1000)
            spin.setSingleStep(0.5)
            spin.setSuffix(" 学时")
            spin.setValue(current[grade] / 10)
            return spin

        super().__init__("培训最低学时", f"依据:{RULE}。单位可规定更高的学时;修改后,培训学时名单按新的最低学时判断是否达标。",
                         GRADES, spin_for, "{grade}涉密人员每年不少于", training.set_minimums, parent, width=460)

    def values(self) -> dict:
        # as text with its one decimal: the service reads it exactly (no float's 0.30000000000000004)
        return {grade: f"{spin.value():.1f}" for grade, spin in self.spins.items()}
