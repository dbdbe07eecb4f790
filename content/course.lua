-- The course manifest: modules, in order, each with its lectures and labs.
-- Lectures are content/lectures/<id>.md; labs are labs/<id>/lab.lua.
return course {
  title = "Parallel and Distributed Computing",

  module { id = "m1", title = "Foundations",
    lecture "l01-why-parallel",
    lab "amdahl-sum",
  },
}
