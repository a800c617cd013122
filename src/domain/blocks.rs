//! A page's content blocks (DESIGN §8): storage order, reading within a
//! connection's grant, appending, editing and trashing.
