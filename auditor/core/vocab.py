"""The vocabulary: codes of the data contract and the product, with their Chinese labels.

Input code maps (canonical code -> accepted Chinese labels, the first one shown) are read by the
loader; the ``*_LABELS`` dictionaries are what every page, file and message shows.
"""

from __future__ import annotations

PROGRAMS: dict[str, list[str]] = {
    "dibao": ["低保"],
    "tekun": ["特困"],
    "dibao_edge": ["低保边缘"],
    "rigid_expense": ["刚性支出困难"],
    "temporary": ["临时救助"],
    "medical": ["医疗救助"],
    "education": ["教育救助"],
    "housing": ["住房救助"],
    "employment": ["就业救助"],
    "disability": ["重残无业"],
}

CASE_STATUS: dict[str, list[str]] = {
    "active": ["在保"],
    "suspended": ["暂停"],
    "terminated": ["终止"],
}

LEDGER_STATUS: dict[str, list[str]] = {
    "paid": ["成功", "已支付", "支付成功"],
    "returned": ["退回"],
    "failed": ["失败"],
}

RELATIONS: dict[str, list[str]] = {
    "spouse": ["配偶"],
    "parent": ["父母"],
    "child": ["子女"],
    "sibling": ["兄弟姐妹"],
    "grandparent": ["祖父母/外祖父母", "祖父母", "外祖父母"],
    "grandchild": ["孙子女/外孙子女", "孙子女", "外孙子女"],
    "parent_in_law": ["配偶父母"],
    "child_in_law": ["子女配偶"],
    "sibling_in_law": ["配偶兄弟姐妹"],
    "cousin": ["堂表兄弟姐妹", "表兄弟姐妹", "堂兄弟姐妹"],
    "other": ["其他"],
}

MEMBER_RELATIONS: dict[str, list[str]] = {"self": ["本人"], **RELATIONS}

STAFF_ROLES: dict[str, list[str]] = {
    "civil_affairs": ["民政干部"],
    "cadre": ["村居干部"],
    "advisor": ["社区救助顾问"],
    "case_worker": ["经办人"],
}

REVIEW_CYCLES: dict[str, list[str]] = {
    "quarterly": ["季度"],
    "semiannual": ["半年"],
    "annual": ["年度"],
}

BUSINESS_ROLES: dict[str, list[str]] = {
    "legal_rep": ["法定代表人"],
    "shareholder": ["股东"],
}

PENALTY_KINDS: dict[str, list[str]] = {
    "imprisonment": ["有期徒刑", "徒刑", "服刑"],
    "probation": ["缓刑"],
    "other": ["其他"],
}


def _first(mapping: dict[str, list[str]]) -> dict[str, str]:
    return {code: labels[0] for code, labels in mapping.items()}


PROGRAM_LABELS = _first(PROGRAMS)
CASE_STATUS_LABELS = _first(CASE_STATUS)
RELATION_LABELS = _first(RELATIONS)
STAFF_ROLE_LABELS = _first(STAFF_ROLES)

SEVERITIES = ("high", "medium", "low")
SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低"}

USER_ROLES = ("auditor", "inspector", "office", "street")
USER_ROLE_LABELS = {"auditor": "审计人员", "inspector": "纪检监察", "office": "联席会议办公室", "street": "街镇经办"}

FINDING_STATUSES = ("new", "assigned", "rectifying", "rectified", "confirmed", "dismissed")
FINDING_STATUS_LABELS = {"new": "新发现", "assigned": "已交办", "rectifying": "整改中", "rectified": "已整改",
                         "confirmed": "查实违规", "dismissed": "排除（线索不实）"}

# Suffixes of administrative level names (上海市, 长宁区, 湖南省 …): a full place name ends in one.
LEVEL_SUFFIXES = ("省", "市", "区", "县", "州", "盟", "旗")

# 特困 bases of a case (cases.basis, free text in the contract): the usual codes and how pages show them
TEKUN_BASIS_LABELS = {"minor": "未成年", "elderly": "老年", "disabled": "残疾"}
