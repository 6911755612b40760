"""Jobs: the monthly audit, the quarterly information-sharing check, pre-payment screening, the 双随机
sample, the dishonesty list, the relationship look-up page and the scheduler.

May import every sub-package except ``services`` and ``cli``.
"""
